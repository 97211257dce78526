package dev.coldcopy.nbd.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.coldcopy.nbd.testing.NbdkitServer;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.nbd.testing.QemuNbdServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Handshake variants: oldstyle, servers or clients without structured replies, non-NBD and silent peers. */
class HandshakeTest {

    @TempDir
    Path dir;

    @Test
    void oldstyleServerIsRejectedClearly() {
        try (NbdkitServer server = NbdkitServer.builder("pattern").param("size=1M").option("--oldstyle").start()) {
            assertThatThrownBy(() -> NbdClient.connect(server.uri(), NbdClientOptions.defaults()))
                    .isInstanceOf(NbdProtocolException.class).hasMessageContaining("oldstyle NBD handshake, which is not supported");
        }
    }

    @Test
    void serverWithoutStructuredRepliesIsReadWithSimpleReplies() throws IOException {
        try (NbdkitServer server = NbdkitServer.builder("pattern").param("size=64M").option("--no-sr").start();
             NbdClient client = NbdClient.connect(server.uri(), NbdClientOptions.builder().metaContexts("base:allocation").build())) {
            assertThat(client.info().structuredReplies()).isFalse();
            assertThat(client.metaContexts()).isEmpty();
            ByteBuffer b = ByteBuffer.allocate(3 * 1024 * 1024 + 5);
            client.read(8 * 1024 * 1024 + 3, b);
            long word = (8L * 1024 * 1024 + 8) & ~7L;
            assertThat(b.getLong(5)).isEqualTo(word); // bytes 3..7 finish word 8M, byte 5 of dst starts the next word
        }
    }

    @Test
    void clientCanDeclineStructuredReplies() throws IOException {
        Path image = QemuImages.createQcow2(dir.resolve("s.qcow2"), 4 * 1024 * 1024);
        QemuImages.writePattern(image, 0x42, 1024 * 1024, 1024 * 1024);
        try (QemuNbdServer server = QemuNbdServer.builder(image).start();
             NbdClient client = NbdClient.connect(server.uri(), NbdClientOptions.builder().structuredReplies(false).build())) {
            assertThat(client.info().structuredReplies()).isFalse();
            assertThat(client.read(1024 * 1024, 1024 * 1024)).containsOnly((byte) 0x42);
            assertThat(client.read(0, 1024 * 1024)).containsOnly((byte) 0);
        }
    }

    @Test
    void nonNbdPeerAndSilentPeerFailFast() throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            NbdUri uri = NbdUri.tcp("127.0.0.1", ss.getLocalPort(), "x");
            Thread talker = new Thread(() -> {
                try (Socket s = ss.accept()) {
                    s.getOutputStream().write("SSH-2.0-OpenSSH_9.2 not nbd\r\n".getBytes(StandardCharsets.US_ASCII));
                    s.getOutputStream().flush();
                    Thread.sleep(2000);
                } catch (IOException | InterruptedException ignored) {
                    // test over
                }
            });
            talker.start();
            assertThatThrownBy(() -> NbdClient.connect(uri, NbdClientOptions.defaults()))
                    .isInstanceOf(NbdProtocolException.class).hasMessageContaining("not an NBD server");
            talker.interrupt();
            talker.join();
            // a peer that accepts and says nothing: the connect timeout ends the handshake
            NbdClientOptions quick = NbdClientOptions.builder().connectTimeout(Duration.ofMillis(500)).build();
            assertTimeoutPreemptively(Duration.ofSeconds(5), () ->
                    assertThatThrownBy(() -> NbdClient.connect(uri, quick))
                            .isInstanceOf(NbdTimeoutException.class).hasMessageContaining("did not finish within 500 ms"));
        }
    }
}
