package dev.coldcopy.nbd.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.nbd.testing.QemuNbdServer;
import dev.coldcopy.nbd.testing.TlsCertificates;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** nbds:// against qemu-nbd with X.509 credentials made at test time. */
class TlsTest {
    private static final int MiB = 1024 * 1024;

    @TempDir
    static Path dir;
    static Path creds;
    static SSLContext trustingTestCa;

    @BeforeAll
    static void certificates() throws Exception {
        creds = TlsCertificates.create(dir.resolve("pki"));
        trustingTestCa = TlsCertificates.clientContext(creds);
    }

    @Test
    void readsOverTlsAndRefusesPlainAndUntrusted() throws IOException {
        Path image = QemuImages.createQcow2(dir.resolve("tls.qcow2"), 16L * MiB);
        QemuImages.writePattern(image, 0x7E, 2L * MiB, 3L * MiB);
        try (QemuNbdServer server = QemuNbdServer.builder(image).tls(creds, false).shared(4).start()) {
            assertThat(server.uri().toString()).startsWith("nbds://127.0.0.1:");
            NbdClientOptions tls = NbdClientOptions.builder().sslContext(trustingTestCa)
                    .metaContexts("base:allocation").connections(2).build();
            try (NbdClient client = NbdClient.connect(NbdUri.parse(server.uri().toString()), tls)) {
                assertThat(client.connectionCount()).isEqualTo(2);
                byte[] all = client.read(0, 16 * MiB);
                for (int i = 0; i < all.length; i++) {
                    byte expected = i >= 2 * MiB && i < 5 * MiB ? (byte) 0x7E : 0;
                    if (all[i] != expected) {
                        throw new AssertionError("byte " + i + " is " + all[i]);
                    }
                }
                assertThat(Extents.data(client.blockStatus("base:allocation", 0, client.size())))
                        .containsExactly(new Extent(2L * MiB, 3L * MiB, 0));
            }
            // the server insists on TLS
            NbdUri plain = new NbdUri(NbdUri.Transport.TCP, "127.0.0.1", server.uri().port(), null, "disk", false);
            assertThatThrownBy(() -> NbdClient.connect(plain, NbdClientOptions.defaults()))
                    .isInstanceOf(NbdOptionException.class).hasMessageContaining("NBD_REP_ERR_TLS_REQD");
            // a client that does not trust the test CA stops at the TLS handshake
            assertThatThrownBy(() -> NbdClient.connect(server.uri(), NbdClientOptions.defaults()))
                    .isInstanceOf(NbdException.class).hasMessageContaining("TLS handshake with 127.0.0.1");
        }
    }

    @Test
    void writesOverTls() throws IOException {
        Path image = QemuImages.createQcow2(dir.resolve("tlsw.qcow2"), 8L * MiB);
        byte[] data = new byte[MiB + 4096];
        new Random(2).nextBytes(data);
        try (QemuNbdServer server = QemuNbdServer.builder(image).tls(creds, false).readOnly(false).start();
             NbdClient client = NbdClient.connect(server.uri(), NbdClientOptions.builder().sslContext(trustingTestCa).build())) {
            client.write(4096, java.nio.ByteBuffer.wrap(data));
            client.flush();
            assertThat(QemuImages.sha256(client.read(4096, data.length))).isEqualTo(QemuImages.sha256(data));
        }
    }
}
