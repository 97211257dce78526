package dev.coldcopy.nbd.camel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.nbd.protocol.NbdUri;
import java.nio.file.Path;
import org.apache.camel.CamelContext;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Endpoint URIs and options, discovered through the nbd scheme as any Camel app would. */
class NbdEndpointConfigTest {

    CamelContext context;

    @BeforeEach
    void start() {
        context = new DefaultCamelContext();
        context.start();
    }

    @AfterEach
    void stop() {
        context.stop();
    }

    @Test
    void unixEndpointBindsEveryOption() {
        NbdEndpoint e = context.getEndpoint("nbd:unix?socket=/run/x.sock&exportName=vda&metaContext=qemu:dirty-bitmap:b1"
                + "&chunkSize=1048576&readAhead=8&maxInFlight=32&connections=2&zeroDetect=false&operation=extents"
                + "&repeatCount=3&delay=1000", NbdEndpoint.class);
        NbdConfiguration c = e.getConfiguration();
        assertThat(e.exportUri()).isEqualTo(NbdUri.unix(Path.of("/run/x.sock"), "vda"));
        assertThat(c.getMetaContext()).isEqualTo("qemu:dirty-bitmap:b1");
        assertThat(c.effectiveDirtyOnly()).as("dirty-bitmap context implies dirtyOnly").isTrue();
        assertThat(c.getChunkSize()).isEqualTo(1048576);
        assertThat(c.getReadAhead()).isEqualTo(8);
        assertThat(c.getMaxInFlight()).isEqualTo(32);
        assertThat(c.getConnections()).isEqualTo(2);
        assertThat(c.isZeroDetect()).isFalse();
        assertThat(c.getOperation()).isEqualTo(NbdOperations.extents);
        assertThat(e.getRepeatCount()).isEqualTo(3);
        assertThat(e.getDelay()).isEqualTo(1000);
    }

    @Test
    void defaults() {
        NbdEndpoint e = context.getEndpoint("nbd:tcp?host=127.0.0.1", NbdEndpoint.class);
        NbdConfiguration c = e.getConfiguration();
        assertThat(e.exportUri()).isEqualTo(new NbdUri(NbdUri.Transport.TCP, "127.0.0.1", 10809, null, "", false));
        assertThat(c.getMetaContext()).isEqualTo("base:allocation");
        assertThat(c.effectiveDirtyOnly()).isFalse();
        assertThat(c.getChunkSize()).isEqualTo(4 * 1024 * 1024);
        assertThat(c.getReadAhead()).isEqualTo(4);
        assertThat(c.isZeroDetect()).isTrue();
        assertThat(c.getOperation()).isEqualTo(NbdOperations.chunks);
        assertThat(e.getRepeatCount()).as("the consumer reads once by default").isEqualTo(1);
    }

    @Test
    void producerEndpointMayLeaveTheExportToAHeader() {
        NbdEndpoint e = context.getEndpoint("nbd:uri?operation=info", NbdEndpoint.class);
        assertThat(e.exportUri()).isNull();
    }

    @Test
    void badOptionsFailWithAReason() {
        assertThatThrownBy(() -> context.getEndpoint("nbd:unix?socket=/x&chunkSize=1000"))
                .hasStackTraceContaining("chunkSize must be a multiple of 4096");
        assertThatThrownBy(() -> context.getEndpoint("nbd:carrier-pigeon?socket=/x"))
                .hasStackTraceContaining("unknown transport 'carrier-pigeon'");
        assertThatThrownBy(() -> context.getEndpoint("nbd:unix?socket=/x&dirtyOnly=true"))
                .hasStackTraceContaining("dirtyOnly needs a dirty-bitmap metaContext");
        assertThatThrownBy(() -> context.getEndpoint("nbd:unix?socket=/x&noSuchOption=1"))
                .hasStackTraceContaining("noSuchOption");
    }

    @Test
    void tlsFileOptionsFailAtEndpointCreationWithTheirReason(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> context.getEndpoint("nbd:tcp?host=127.0.0.1&tls=true&tlsCaFile=" + dir.resolve("missing.pem")))
                .hasStackTraceContaining("missing.pem does not exist or is not readable");
        Path notPem = java.nio.file.Files.writeString(dir.resolve("ca.pem"), "not a certificate");
        assertThatThrownBy(() -> context.getEndpoint("nbd:tcp?host=127.0.0.1&tls=true&tlsCaFile=" + notPem))
                .hasStackTraceContaining("holds no PEM certificate");
        Path psk = java.nio.file.Files.writeString(dir.resolve("keys.psk"), "alice:0011223344556677\n");
        assertThatThrownBy(() -> context.getEndpoint("nbd:tcp?host=127.0.0.1&tls=true&tlsPskFile=" + psk + "&tlsCaFile=" + notPem))
                .hasStackTraceContaining("exclude each other");
        assertThatThrownBy(() -> context.getEndpoint("nbd:tcp?host=127.0.0.1&tls=true&tlsPskFile=" + psk + "&tlsUsername=bob"))
                .hasStackTraceContaining("no key for user 'bob'");
        NbdEndpoint ok = context.getEndpoint("nbd:tcp?host=127.0.0.1&tls=true&tlsPskFile=" + psk, NbdEndpoint.class);
        assertThat(ok.getConfiguration().effectiveTlsPsk().identity()).isEqualTo("alice");
        assertThatThrownBy(() -> context.getEndpoint("nbd:tcp?host=127.0.0.1&tls=true&tlsCertFile=" + psk))
                .hasStackTraceContaining("give both tlsCertFile and tlsKeyFile");
    }

    @Test
    void tlsOptionsWithoutTlsAreRefusedRatherThanIgnored(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path psk = java.nio.file.Files.writeString(dir.resolve("keys.psk"), "alice:0011223344556677\n");
        assertThatThrownBy(() -> context.getEndpoint("nbd:tcp?host=127.0.0.1&tlsPskFile=" + psk))
                .hasStackTraceContaining("TLS options given but tls=false: set tls=true");
        assertThatThrownBy(() -> context.getEndpoint("nbd:uri?uri=RAW(nbd://127.0.0.1:10809/disk)&tlsPskFile=" + psk))
                .hasStackTraceContaining("TLS options given but the URI is nbd://: use nbds://127.0.0.1:10809/disk");
        assertThatThrownBy(() -> context.getEndpoint("nbd:unix?socket=/x&tlsPskFile=" + psk))
                .hasStackTraceContaining("TLS options given but the URI is nbd+unix://");
        assertThat(context.getEndpoint("nbd:uri?uri=RAW(nbds://127.0.0.1:10809/disk)&tlsPskFile=" + psk)).isNotNull();
    }
}
