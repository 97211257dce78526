package dev.coldcopy.nbd.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.nbd.testing.QemuNbdServer;
import dev.coldcopy.testing.Tools;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client against qemu-nbd over qcow2 images with known contents and a dirty bitmap. */
class QemuNbdClientTest {
    private static final int MiB = 1024 * 1024;
    private static final long SIZE = 64L * MiB;

    @TempDir
    static Path dir;
    static Path image;
    static Path raw;

    /** A 64 MiB qcow2: a pattern before the bitmap, random pieces and a pattern after it; the rest holes. */
    @BeforeAll
    static void buildImage() throws IOException {
        // random data in scattered pieces, through a raw file converted to qcow2 (zero runs stay sparse)
        Path seed = dir.resolve("seed.raw");
        try (RandomAccessFile f = new RandomAccessFile(seed.toFile(), "rw")) {
            f.setLength(SIZE);
            Random rnd = new Random(42);
            for (long off : new long[] {0, 5L * MiB + 4096, 20L * MiB, 63L * MiB}) {
                byte[] b = new byte[(int) Math.min(MiB + 12345, SIZE - off)];
                rnd.nextBytes(b);
                f.seek(off);
                f.write(b);
            }
        }
        image = QemuImages.convert(seed, dir.resolve("disk.qcow2"), "qcow2");
        QemuImages.writePattern(image, 0xAB, 30L * MiB, 3L * MiB);
        QemuImages.addBitmap(image, "b0", false);
        QemuImages.writePattern(image, 0xCD, 40L * MiB, 64 * 1024);
        QemuImages.writePattern(image, 0xEF, 50L * MiB + 65536, 200 * 1024);
        QemuImages.io(image, "write -z 30M 64k");
        raw = QemuImages.convertToRaw(image, dir.resolve("disk.raw"));
    }

    static NbdClientOptions withContexts(String... contexts) {
        return NbdClientOptions.builder().metaContexts(contexts).build();
    }

    @Test
    void readsEveryByteLikeTheRawConversion() throws IOException {
        try (QemuNbdServer server = QemuNbdServer.builder(image).start();
             NbdClient client = NbdClient.connect(server.uri(), NbdClientOptions.defaults())) {
            assertThat(client.size()).isEqualTo(SIZE);
            assertThat(client.isReadOnly()).isTrue();
            assertThat(client.info().blockSize().maximum()).isEqualTo(32 * MiB);
            ByteBuffer all = ByteBuffer.allocateDirect((int) SIZE);
            client.read(0, all);
            assertThat(all.position()).isZero();
            byte[] got = new byte[(int) SIZE];
            all.get(got);
            assertThat(QemuImages.sha256(got)).isEqualTo(QemuImages.sha256(raw));
        }
    }

    @Test
    void readsPatternsHolesAndOddRanges() throws IOException {
        try (QemuNbdServer server = QemuNbdServer.builder(image).start();
             NbdClient client = NbdClient.connect(server.uri(), NbdClientOptions.defaults())) {
            byte[] expected = Files.readAllBytes(raw);
            byte[] pattern = client.read(31L * MiB, MiB);
            assertThat(pattern).containsOnly((byte) 0xAB);
            assertThat(client.read(30L * MiB, 65536)).containsOnly((byte) 0);
            assertThat(client.read(10L * MiB, 3 * MiB)).containsOnly((byte) 0); // a hole
            // unaligned ranges across data/hole boundaries, many in flight at once
            Random rnd = new Random(7);
            List<CompletableFuture<Void>> futures = new ArrayList<>();
            List<long[]> ranges = new ArrayList<>();
            List<ByteBuffer> buffers = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                long off = (long) (rnd.nextDouble() * (SIZE - 1));
                int len = (int) Math.min(SIZE - off, 1 + rnd.nextInt(700_000));
                ByteBuffer b = ByteBuffer.allocate(len);
                ranges.add(new long[] {off, len});
                buffers.add(b);
                futures.add(client.readAsync(off, b));
            }
            CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).join();
            for (int i = 0; i < ranges.size(); i++) {
                int off = (int) ranges.get(i)[0];
                int len = (int) ranges.get(i)[1];
                assertThat(Arrays.equals(buffers.get(i).array(), Arrays.copyOfRange(expected, off, off + len)))
                        .as("range %d+%d", off, len).isTrue();
            }
            // the last byte, and nothing past the end
            assertThat(client.read(SIZE - 1, 1)).containsExactly(expected[(int) SIZE - 1]);
            assertThatThrownBy(() -> client.read(SIZE - 10, 11)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("outside the export");
        }
    }

    @Test
    void holesOverwriteDirtyBuffersWithZeroes() throws IOException {
        try (QemuNbdServer server = QemuNbdServer.builder(image).start();
             NbdClient client = NbdClient.connect(server.uri(), NbdClientOptions.defaults())) {
            byte[] expected = Arrays.copyOfRange(Files.readAllBytes(raw), (int) (4L * MiB), (int) (7L * MiB));
            for (ByteBuffer b : List.of(ByteBuffer.allocate(3 * MiB), ByteBuffer.allocateDirect(3 * MiB))) {
                // stale bytes everywhere: the server's OFFSET_HOLE chunks must turn them into zeroes
                while (b.hasRemaining()) {
                    b.put((byte) 0xFF);
                }
                b.clear();
                client.read(4L * MiB, b);
                byte[] got = new byte[3 * MiB];
                b.get(got);
                assertThat(QemuImages.sha256(got)).isEqualTo(QemuImages.sha256(expected));
            }
        }
    }

    @Test
    void dirtyBitmapShowsExactlyTheWritesAfterItWasAdded() throws IOException {
        try (QemuNbdServer server = QemuNbdServer.builder(image).bitmap("b0").start();
             NbdClient client = NbdClient.connect(server.uri(), withContexts("base:allocation", "qemu:dirty-bitmap:b0"))) {
            assertThat(client.metaContexts()).containsExactlyInAnyOrder("base:allocation", "qemu:dirty-bitmap:b0");
            List<Extent> dirty = client.blockStatus("qemu:dirty-bitmap:b0", 0, SIZE);
            // default qcow2 bitmap granularity is 64 KiB: the writes are aligned to it, the zero write too
            assertThat(dirty.stream().filter(Extent::isDirty).toList()).containsExactly(
                    new Extent(30L * MiB, 65536, 1),
                    new Extent(40L * MiB, 65536, 1),
                    new Extent(50L * MiB + 65536, 256 * 1024, 1));
            assertThat(Extents.totalLength(dirty)).isEqualTo(SIZE);
            // both contexts in one pass
            var both = client.blockStatus(List.of("base:allocation", "qemu:dirty-bitmap:b0"), 0, SIZE);
            assertThat(both.get("qemu:dirty-bitmap:b0")).isEqualTo(dirty);
            assertThat(both.get("base:allocation")).isEqualTo(client.blockStatus("base:allocation", 0, SIZE));
            // dirty and allocated view: the zero write comes back as a ZERO piece
            List<Extent> view = Extents.intersect(dirty, both.get("base:allocation"));
            assertThat(view).contains(new Extent(40L * MiB, 65536, 0));
            assertThat(view.stream().filter(e -> e.offset() == 30L * MiB).findFirst().orElseThrow().isZero()).isTrue();
        }
    }

    @Test
    void baseAllocationEqualsNbdinfoMap() throws IOException {
        try (QemuNbdServer server = QemuNbdServer.builder(image).start()) {
            // nbdinfo first: qemu-nbd serves one client at a time without --shared
            // nbdinfo --map prints "offset length type description" per extent
            List<Extent> expected = new ArrayList<>();
            for (String line : Tools.run("nbdinfo", "--map", server.uri().toString()).strip().split("\n")) {
                String[] f = line.strip().split("\\s+");
                expected.add(new Extent(Long.parseLong(f[0]), Long.parseLong(f[1]), Integer.parseInt(f[2])));
            }
            assertThat(expected).hasSizeGreaterThan(4);
            try (NbdClient client = NbdClient.connect(server.uri(), withContexts("base:allocation"))) {
            assertThat(client.blockStatus("base:allocation", 0, SIZE)).isEqualTo(Extents.merge(expected));
            // a window in the middle is clamped to the window
            List<Extent> window = client.blockStatus("base:allocation", 5L * MiB, 100L * MiB);
            assertThat(window.get(0).offset()).isEqualTo(5L * MiB);
            assertThat(window.get(window.size() - 1).end()).isEqualTo(SIZE);
            }
        }
    }

    @Test
    void unnegotiatedContextIsAClearError() throws IOException {
        try (QemuNbdServer server = QemuNbdServer.builder(image).start();
             NbdClient client = NbdClient.connect(server.uri(), withContexts("base:allocation", "qemu:dirty-bitmap:nope"))) {
            assertThat(client.metaContexts()).containsExactly("base:allocation");
            assertThatThrownBy(() -> client.blockStatus("qemu:dirty-bitmap:nope", 0, SIZE))
                    .isInstanceOf(NbdException.class).hasMessageContaining("was not negotiated");
        }
    }
}
