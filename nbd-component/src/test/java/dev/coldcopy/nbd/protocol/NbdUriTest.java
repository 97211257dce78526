package dev.coldcopy.nbd.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class NbdUriTest {

    @Test
    void tcpWithDefaultPort() {
        NbdUri u = NbdUri.parse("nbd://example.com/disk");
        assertThat(u).isEqualTo(new NbdUri(NbdUri.Transport.TCP, "example.com", 10809, null, "disk", false));
        assertThat(u.toString()).isEqualTo("nbd://example.com:10809/disk");
    }

    @Test
    void tcpWithPortAndEmptyExport() {
        NbdUri u = NbdUri.parse("nbd://127.0.0.1:12345");
        assertThat(u.port()).isEqualTo(12345);
        assertThat(u.exportName()).isEmpty();
        assertThat(NbdUri.parse("nbd://127.0.0.1:12345/").exportName()).isEmpty();
    }

    @Test
    void tlsAndIpv6() {
        NbdUri u = NbdUri.parse("nbds://[::1]:999/a%20b");
        assertThat(u.tls()).isTrue();
        assertThat(u.host()).isEqualTo("::1");
        assertThat(u.exportName()).isEqualTo("a b");
        assertThat(u.toString()).isEqualTo("nbds://[::1]:999/a%20b");
        assertThat(NbdUri.parse(u.toString())).isEqualTo(u);
    }

    @Test
    void unixSocket() {
        NbdUri u = NbdUri.parse("nbd+unix:///vm-disk?socket=/run/x%20y/nbd.sock");
        assertThat(u.transport()).isEqualTo(NbdUri.Transport.UNIX);
        assertThat(u.socket()).isEqualTo(Path.of("/run/x y/nbd.sock"));
        assertThat(u.exportName()).isEqualTo("vm-disk");
        assertThat(NbdUri.parse(u.toString())).isEqualTo(u);
        assertThat(NbdUri.unix(Path.of("/tmp/s"), "e").toString()).isEqualTo("nbd+unix:///e?socket=/tmp/s");
        assertThat(NbdUri.parse("nbd+unix:///?socket=/tmp/s").exportName()).isEmpty();
    }

    @Test
    void exportNamesKeepSlashesAndPlus() {
        assertThat(NbdUri.parse("nbd://h/a/b+c").exportName()).isEqualTo("a/b+c");
        NbdUri u = NbdUri.unix(Path.of("/s"), "a/b+c");
        assertThat(NbdUri.parse(u.toString())).isEqualTo(u);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "''|empty NBD URI",
            "disk|has no scheme",
            "http://h/disk|unknown scheme 'http'",
            "nbd:disk|must start with nbd://",
            "nbd:///disk|has no host",
            "nbd://h:abc/disk|bad host or port",
            "nbd://h:70000/disk|out of range",
            "nbd+unix:///disk|lacks ?socket=PATH",
            "nbd+unix://host/disk?socket=/s|takes no host",
            "nbds+unix:///disk?socket=/s|not supported yet",
            "nbd://h/disk?socket=/s|only goes with nbd+unix",
            "nbd://h /x|not a valid NBD URI",
    })
    void badUrisSayWhy(String uri, String reason) {
        assertThatThrownBy(() -> NbdUri.parse(uri)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(reason);
    }
}
