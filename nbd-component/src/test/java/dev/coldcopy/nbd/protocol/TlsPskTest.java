package dev.coldcopy.nbd.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.nbd.testing.NbdkitServer;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.nbd.testing.TlsCertificates;
import dev.coldcopy.testing.Tools;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** nbds:// with a pre-shared key (nbdkit --tls-psk), keys made by GnuTLS's psktool. */
class TlsPskTest {
    private static final int MiB = 1024 * 1024;

    @TempDir
    Path dir;

    /** A psktool key file with a key for {@code user}. */
    private Path keys(String name, String... users) {
        Path file = dir.resolve(name);
        for (String user : users) {
            Tools.run(Duration.ofSeconds(30), List.of("psktool", "-u", user, "-p", file.toString()));
        }
        return file;
    }

    private static NbdClientOptions psk(Path file, String user) {
        return NbdClientOptions.builder().tlsPsk(TlsPsk.fromFile(file, user)).metaContexts("base:allocation").build();
    }

    @Test
    void readsAndWritesTheBytesNbdcopyReads() throws Exception {
        Path keys = keys("keys.psk", "alice", "bob");
        byte[] data = new byte[MiB];
        new Random(3).nextBytes(data);
        try (NbdkitServer server = NbdkitServer.builder("memory").param("size=8M").tlsPsk(keys).start()) {
            assertThat(server.uri().toString()).startsWith("nbds://127.0.0.1:");
            byte[] all;
            try (NbdClient client = NbdClient.connect(server.uri(), psk(keys, "bob"))) {
                client.write(2L * MiB, ByteBuffer.wrap(data));
                client.flush();
                all = client.read(0, 8 * MiB);
                assertThat(Extents.data(client.blockStatus("base:allocation", 0, client.size())))
                        .contains(new Extent(2L * MiB, MiB, 0));
            }
            Path copied = dir.resolve("copy.raw");
            Tools.run(Duration.ofMinutes(1), List.of("nbdcopy",
                    server.uri().toString().replace("nbds://", "nbds://bob@") + "?tls-psk-file=" + keys, copied.toString()));
            assertThat(QemuImages.sha256(all)).isEqualTo(QemuImages.sha256(copied));
            assertThat(java.util.Arrays.copyOfRange(all, 2 * MiB, 3 * MiB)).isEqualTo(data);
        }
    }

    @Test
    void aWrongKeyIsRefusedWithAReason() {
        Path serverKeys = keys("server.psk", "alice");
        Path otherKeys = keys("other.psk", "alice");
        try (NbdkitServer server = NbdkitServer.builder("memory").param("size=1M").tlsPsk(serverKeys).start()) {
            assertThatThrownBy(() -> NbdClient.connect(server.uri(), psk(otherKeys, null)))
                    .isInstanceOf(NbdException.class).hasMessageContaining("TLS-PSK handshake with 127.0.0.1")
                    .hasMessageContaining("as user 'alice'");
        }
    }

    @Test
    void certificatesAgainstAPskServerSayWhatToUse() {
        Path keys = keys("keys.psk", "alice");
        try (NbdkitServer server = NbdkitServer.builder("memory").param("size=1M").tlsPsk(keys).start()) {
            assertThatThrownBy(() -> NbdClient.connect(server.uri(), NbdClientOptions.defaults()))
                    .isInstanceOf(NbdException.class).hasMessageContaining("tlsPskFile")
                    .hasMessageNotContaining("PKIX");
        }
    }

    @Test
    void aPskAgainstACertificateServerSaysWhatToUse() throws Exception {
        Path pki = TlsCertificates.create(dir.resolve("pki"));
        Path keys = keys("keys.psk", "alice");
        try (NbdkitServer server = NbdkitServer.builder("memory").param("size=1M").tlsCertificates(pki, false).start()) {
            assertThatThrownBy(() -> NbdClient.connect(server.uri(), psk(keys, null)))
                    .isInstanceOf(NbdException.class).hasMessageContaining("TLS-PSK handshake")
                    .hasMessageContaining("tlsCaFile");
            // and the CA file works against the same server
            try (NbdClient client = NbdClient.connect(server.uri(), NbdClientOptions.builder()
                    .sslContext(TlsCredentials.fromPemFiles(pki.resolve("ca-cert.pem"), null, null)).build())) {
                assertThat(client.size()).isEqualTo(MiB);
            }
        }
    }

    @Test
    void keyFileFormatErrorsAreClear() throws Exception {
        Path two = keys("two.psk", "alice", "bob");
        assertThat(TlsPsk.fromFile(two, "alice").identity()).isEqualTo("alice");
        assertThatThrownBy(() -> TlsPsk.fromFile(two, null)).hasMessageContaining("[alice, bob]").hasMessageContaining("tlsUsername");
        assertThatThrownBy(() -> TlsPsk.fromFile(two, "carol")).hasMessageContaining("no key for user 'carol'");
        Path bad = Files.writeString(dir.resolve("bad.psk"), "alice:not-hex\n");
        assertThatThrownBy(() -> TlsPsk.fromFile(bad, null)).hasMessageContaining("not hexadecimal")
                .hasMessageNotContaining("not-hex");
        Path empty = Files.writeString(dir.resolve("empty.psk"), "\n");
        assertThatThrownBy(() -> TlsPsk.fromFile(empty, null)).hasMessageContaining("username:hexkey");
        assertThat(TlsPsk.fromFile(two, "bob").toString()).doesNotContain(Files.readString(two).split("bob:")[1].strip());
    }
}
