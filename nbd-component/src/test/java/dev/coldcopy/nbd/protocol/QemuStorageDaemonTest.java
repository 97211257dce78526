package dev.coldcopy.nbd.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.nbd.testing.QemuStorageDaemonServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** qemu-storage-daemon exporting a qcow2 node with a dirty bitmap. */
class QemuStorageDaemonTest {
    private static final int MiB = 1024 * 1024;

    @TempDir
    Path dir;

    @Test
    void readsAndBlockStatusThroughTheStorageDaemon() throws IOException {
        Path image = QemuImages.createQcow2(dir.resolve("d.qcow2"), 32L * MiB);
        QemuImages.writePattern(image, 0x11, 0, 2 * MiB);
        QemuImages.addBitmap(image, "inc0", false);
        QemuImages.writePattern(image, 0x22, 8L * MiB, 128 * 1024);
        QemuImages.writePattern(image, 0x33, 20L * MiB + 4096, 4096); // dirties one 64 KiB granule
        byte[] raw = Files.readAllBytes(QemuImages.convertToRaw(image, dir.resolve("d.raw")));
        try (QemuStorageDaemonServer server = QemuStorageDaemonServer.builder(image).bitmap("inc0").start();
             NbdClient client = NbdClient.connect(server.uri(),
                     NbdClientOptions.builder().metaContexts("base:allocation", "qemu:dirty-bitmap:inc0").build())) {
            assertThat(client.size()).isEqualTo(32L * MiB);
            assertThat(QemuImages.sha256(client.read(0, 32 * MiB))).isEqualTo(QemuImages.sha256(raw));
            List<Extent> dirty = client.blockStatus("qemu:dirty-bitmap:inc0", 0, client.size()).stream()
                    .filter(Extent::isDirty).toList();
            assertThat(dirty).containsExactly(new Extent(8L * MiB, 128 * 1024, 1), new Extent(20L * MiB, 65536, 1));
            List<Extent> alloc = client.blockStatus("base:allocation", 0, client.size());
            assertThat(Extents.data(alloc)).extracting(Extent::offset).contains(0L, 8L * MiB);
            assertThat(Arrays.copyOfRange(raw, 8 * MiB, 8 * MiB + 10)).containsOnly((byte) 0x22);
        }
    }
}
