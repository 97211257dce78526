package dev.coldcopy.nbd.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.nbd.testing.QemuNbdServer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writes through qemu-nbd, several connections, TCP, and the handshake-only operations. */
class QemuNbdWriteAndConnectTest {
    private static final int MiB = 1024 * 1024;

    @TempDir
    Path dir;

    @Test
    void writesToAWritableQcow2AreReadBackAndReachTheImage() throws IOException {
        Path image = QemuImages.createQcow2(dir.resolve("w.qcow2"), 32L * MiB);
        byte[] data = new byte[4 * MiB];
        new Random(11).nextBytes(data);
        try (QemuNbdServer server = QemuNbdServer.builder(image).readOnly(false).arg("--discard=unmap").start();
             NbdClient client = NbdClient.connect(server.uri(), NbdClientOptions.defaults())) {
            assertThat(client.isReadOnly()).isFalse();
            assertThat(client.info().canWriteZeroes()).isTrue();
            client.write(MiB, ByteBuffer.wrap(data));
            client.writeZeroesAsync(2 * MiB, MiB, true).join();
            client.trim(4 * MiB, 512 * 1024);
            client.flush();
            byte[] expected = data.clone();
            Arrays.fill(expected, MiB, 2 * MiB, (byte) 0);
            Arrays.fill(expected, 3 * MiB, 3 * MiB + 512 * 1024, (byte) 0); // qcow2 trims read as zero
            assertThat(sha(client.read(MiB, data.length))).isEqualTo(sha(expected));
        }
        // and the bytes really are in the image
        byte[] raw = java.nio.file.Files.readAllBytes(QemuImages.convertToRaw(image, dir.resolve("w.raw")));
        byte[] expected = data.clone();
        Arrays.fill(expected, MiB, 2 * MiB, (byte) 0);
        Arrays.fill(expected, 3 * MiB, 3 * MiB + 512 * 1024, (byte) 0);
        assertThat(sha(Arrays.copyOfRange(raw, MiB, MiB + data.length))).isEqualTo(sha(expected));
    }

    private static String sha(byte[] b) {
        return QemuImages.sha256(b);
    }

    @Test
    void writingToAReadOnlyExportIsRefused() throws IOException {
        Path image = QemuImages.createQcow2(dir.resolve("r.qcow2"), MiB);
        try (QemuNbdServer server = QemuNbdServer.builder(image).start();
             NbdClient client = NbdClient.connect(server.uri(), NbdClientOptions.defaults())) {
            assertThatThrownBy(() -> client.write(0, ByteBuffer.allocate(512)))
                    .isInstanceOf(NbdException.class).hasMessageContaining("read-only");
        }
    }

    @Test
    void multiConnOpensSeveralConnectionsAndSpreadsRequests() throws IOException {
        Path image = QemuImages.createQcow2(dir.resolve("m.qcow2"), 64L * MiB);
        byte[] data = new byte[16 * MiB];
        new Random(12).nextBytes(data);
        try (QemuNbdServer server = QemuNbdServer.builder(image).readOnly(false).shared(4).start()) {
            NbdClientOptions four = NbdClientOptions.builder().connections(4).build();
            try (NbdClient client = NbdClient.connect(server.uri(), four)) {
                assertThat(client.info().canMultiConn()).isTrue();
                assertThat(client.connectionCount()).isEqualTo(4);
                client.write(8L * MiB, ByteBuffer.wrap(data)); // 64 requests over 4 connections
                client.flush();
                List<CompletableFuture<Void>> reads = new ArrayList<>();
                List<ByteBuffer> parts = new ArrayList<>();
                for (int i = 0; i < 16; i++) {
                    ByteBuffer b = ByteBuffer.allocateDirect(MiB);
                    parts.add(b);
                    reads.add(client.readAsync(8L * MiB + (long) i * MiB, b));
                }
                CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).join();
                for (int i = 0; i < 16; i++) {
                    byte[] got = new byte[MiB];
                    parts.get(i).get(got);
                    assertThat(sha(got)).isEqualTo(sha(Arrays.copyOfRange(data, i * MiB, (i + 1) * MiB)));
                }
            }
        }
        // without --shared the server does not advertise multi-conn: one connection only
        try (QemuNbdServer server = QemuNbdServer.builder(image).readOnly(false).start();
             NbdClient client = NbdClient.connect(server.uri(), NbdClientOptions.builder().connections(4).build())) {
            assertThat(client.info().canMultiConn()).isFalse();
            assertThat(client.connectionCount()).isEqualTo(1);
            assertThat(sha(client.read(8L * MiB, MiB))).isEqualTo(sha(Arrays.copyOf(data, MiB)));
        }
    }

    @Test
    void tcpAndUnknownExportAndListings() throws IOException {
        Path image = QemuImages.createQcow2(dir.resolve("t.qcow2"), 8L * MiB);
        QemuImages.writePattern(image, 0x5A, 0, MiB);
        QemuImages.addBitmap(image, "bm", false);
        try (QemuNbdServer server = QemuNbdServer.builder(image).tcp().exportName("tdisk").bitmap("bm").shared(2).start()) {
            NbdUri uri = NbdUri.parse(server.uri().toString());
            assertThat(uri.transport()).isEqualTo(NbdUri.Transport.TCP);
            try (NbdClient client = NbdClient.connect(uri, NbdClientOptions.defaults())) {
                assertThat(client.read(0, MiB)).containsOnly((byte) 0x5A);
            }
            assertThatThrownBy(() -> NbdClient.connect(server.uri("nope"), NbdClientOptions.defaults()))
                    .isInstanceOf(NbdOptionException.class)
                    .hasMessageContaining("server refused NBD_OPT_GO for export 'nope': NBD_REP_ERR_UNKNOWN")
                    .satisfies(e -> assertThat(((NbdOptionException) e).replyType()).isEqualTo("NBD_REP_ERR_UNKNOWN"));
            assertThat(NbdClient.listExports(uri, NbdClientOptions.defaults()))
                    .extracting(ExportDescription::name).containsExactly("tdisk");
            assertThat(NbdClient.listMetaContexts(uri, null, NbdClientOptions.defaults()))
                    .contains("base:allocation", "qemu:dirty-bitmap:bm");
            assertThat(NbdClient.listMetaContexts(uri, "qemu:dirty-bitmap:", NbdClientOptions.defaults()))
                    .containsExactly("qemu:dirty-bitmap:bm");
            ExportInfo info = NbdClient.exportInfo(uri, NbdClientOptions.defaults());
            assertThat(info.size()).isEqualTo(8L * MiB);
            assertThat(info.readOnly()).isTrue();
            assertThat(info.blockSize().maximum()).isEqualTo(32 * MiB);
        }
    }

    @Test
    void connectingToNothingFailsClearly() {
        NbdUri uri = NbdUri.unix(dir.resolve("absent.sock"), "x");
        assertThatThrownBy(() -> NbdClient.connect(uri, NbdClientOptions.defaults()))
                .isInstanceOf(NbdConnectionLostException.class).hasMessageContaining("cannot connect to NBD socket");
    }
}
