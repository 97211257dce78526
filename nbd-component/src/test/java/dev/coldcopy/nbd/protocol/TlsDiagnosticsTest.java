package dev.coldcopy.nbd.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.nbd.testing.NbdkitServer;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.nbd.testing.QemuNbdServer;
import dev.coldcopy.nbd.testing.TlsCertificates;
import dev.coldcopy.testing.Tools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reasons a TLS connection fails, in the user's terms, against real nbdkit and qemu-nbd. */
class TlsDiagnosticsTest {
    private static final long MiB = 1024 * 1024;

    @TempDir
    static Path dir;
    static Path pki;

    @BeforeAll
    static void certificates() {
        pki = TlsCertificates.createClient(TlsCertificates.create(dir.resolve("pki")));
    }

    private static NbdClientOptions caOnly() {
        return NbdClientOptions.builder().sslContext(TlsCredentials.fromPemFiles(pki.resolve("ca-cert.pem"), null, null)).build();
    }

    private static Path pskFile(String name, String user) {
        Path file = dir.resolve(name);
        Tools.run(Duration.ofSeconds(30), List.of("psktool", "-u", user, "-p", file.toString()));
        return file;
    }

    @Test
    void aMissingClientCertificateIsNamedByNbdkitAndQemuNbd() throws Exception {
        try (NbdkitServer server = NbdkitServer.builder("memory").param("size=1M").tlsCertificates(pki, true).start()) {
            assertThatThrownBy(() -> NbdClient.connect(server.uri(), caOnly()))
                    .isInstanceOf(NbdException.class)
                    .hasMessageContaining("the server probably requires a client certificate")
                    .hasMessageContaining("--tls-cert-file");
            assertThatThrownBy(() -> NbdClient.listExports(server.uri(), caOnly()))
                    .hasMessageContaining("the server probably requires a client certificate");
            // with the client certificate it works: the reason above was the right one
            try (NbdClient ok = NbdClient.connect(server.uri(), NbdClientOptions.builder().sslContext(TlsCredentials.fromPemFiles(
                    pki.resolve("ca-cert.pem"), pki.resolve("client-cert.pem"), pki.resolve("client-key.pem"))).build())) {
                assertThat(ok.size()).isEqualTo(MiB);
            }
        }
        Path image = QemuImages.createQcow2(dir.resolve("vp.qcow2"), MiB);
        try (QemuNbdServer server = QemuNbdServer.builder(image).tls(pki, true).start()) {
            assertThatThrownBy(() -> NbdClient.connect(server.uri(), caOnly()))
                    .isInstanceOf(NbdException.class)
                    .hasMessageContaining("the server probably requires a client certificate");
        }
    }

    @Test
    void aWrongPskKeyOrUnknownUserIsNamedAsSuch() {
        Path serverKeys = pskFile("server.psk", "alice");
        Path otherKey = pskFile("other.psk", "alice");
        Path stranger = pskFile("stranger.psk", "mallory");
        try (NbdkitServer server = NbdkitServer.builder("memory").param("size=1M").tlsPsk(serverKeys).start()) {
            assertThatThrownBy(() -> NbdClient.connect(server.uri(),
                    NbdClientOptions.builder().tlsPsk(TlsPsk.fromFile(otherKey, null)).build()))
                    .hasMessageContaining("the server did not accept the key for user 'alice'")
                    .hasMessageNotContaining("X.509");
            String unknownUser = org.assertj.core.api.Assertions.catchThrowable(() -> NbdClient.connect(server.uri(),
                    NbdClientOptions.builder().tlsPsk(TlsPsk.fromFile(stranger, null)).build())).getMessage();
            // either told as such, or the key named first among the possibilities
            assertThat(unknownUser).contains("'mallory'");
            assertThat(unknownUser.indexOf("key")).isLessThan(unknownUser.contains("X.509") ? unknownUser.indexOf("X.509") : Integer.MAX_VALUE);
        }
    }

    @Test
    void aClientKeyThatDoesNotBelongToTheCertificateIsRefusedBeforeConnecting() {
        assertThatThrownBy(() -> TlsCredentials.fromPemFiles(pki.resolve("ca-cert.pem"), pki.resolve("client-cert.pem"),
                pki.resolve("server-key.pem")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("does not belong to the certificate")
                .hasMessageContaining("server-key.pem");
        // the matching pair (PKCS#8 and PKCS#1) passes
        assertThat(TlsCredentials.fromPemFiles(pki.resolve("ca-cert.pem"), pki.resolve("client-cert.pem"),
                pki.resolve("client-key-pkcs1.pem"))).isNotNull();
    }

    @Test
    void tlsOptionsWithAPlainUriAreRefused() throws Exception {
        try (NbdkitServer server = NbdkitServer.builder("memory").param("size=1M").tcp().start()) {
            assertThat(server.uri().tls()).isFalse();
            assertThatThrownBy(() -> NbdClient.connect(server.uri(), caOnly()))
                    .hasMessageStartingWith("TLS options given but the URI is nbd://: use nbds://127.0.0.1:");
            Path psk = pskFile("plain.psk", "alice");
            assertThatThrownBy(() -> NbdClient.listExports(server.uri(),
                    NbdClientOptions.builder().tlsPsk(TlsPsk.fromFile(psk, null)).build()))
                    .hasMessageContaining("TLS options given but the URI is nbd://");
        }
    }

    @Test
    void aTlsMismatchSaysWhichSchemeToUse() {
        try (NbdkitServer server = NbdkitServer.builder("memory").param("size=1M").tlsCertificates(pki, false).start()) {
            NbdUri plain = new NbdUri(NbdUri.Transport.TCP, "127.0.0.1", server.uri().port(), null, "", false);
            assertThatThrownBy(() -> NbdClient.connect(plain, NbdClientOptions.defaults()))
                    .isInstanceOf(NbdOptionException.class)
                    .hasMessageStartingWith("the server requires TLS: use nbds://127.0.0.1:" + server.uri().port() + "/")
                    .hasMessageContaining("--tls-ca-file or --tls-psk-file");
        }
        Path image = QemuImages.createQcow2(dir.resolve("plain.qcow2"), MiB);
        try (QemuNbdServer server = QemuNbdServer.builder(image).tcp().start()) {
            NbdUri tls = new NbdUri(NbdUri.Transport.TCP, "127.0.0.1", server.uri().port(), null, "", true);
            assertThatThrownBy(() -> NbdClient.connect(tls, caOnly()))
                    .isInstanceOf(NbdOptionException.class)
                    .hasMessageStartingWith("the server does not offer TLS: use nbd://127.0.0.1:" + server.uri().port());
        }
        try (NbdkitServer server = NbdkitServer.builder("memory").param("size=1M").tcp().start()) {
            NbdUri tls = new NbdUri(NbdUri.Transport.TCP, "127.0.0.1", server.uri().port(), null, "", true);
            assertThatThrownBy(() -> NbdClient.connect(tls, caOnly()))
                    .hasMessageStartingWith("the server does not offer TLS: use nbd://");
        }
    }
}
