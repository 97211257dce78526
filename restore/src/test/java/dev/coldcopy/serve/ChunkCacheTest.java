package dev.coldcopy.serve;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.repository.ExtentMap;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.repository.testing.ImageBackup;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.repository.testing.StartedCamel;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class ChunkCacheTest {
    static final long MIB = 1024 * 1024;

    @TempDir
    Path work;
    @RegisterExtension
    final StartedCamel camel = new StartedCamel();

    @Test
    void neverTakesMoreThanAQuarterOfTheHeap() {
        assertThat(ChunkCache.withinHeap(256 * MIB, 256 * MIB)).isEqualTo(64 * MIB);
        assertThat(ChunkCache.withinHeap(16 * MIB, 256 * MIB)).isEqualTo(16 * MIB);
        assertThat(ChunkCache.withinHeap(0, 256 * MIB)).isZero();
    }

    @Test
    void holdsAtMostItsBudgetAndDropsTheLeastRecentlyUsed() throws Exception {
        Path image = QemuImages.createQcow2(work.resolve("disk.qcow2"), 32 * MIB);
        QemuImages.writeRandom(image, 0, (int) (32 * MIB), new Random(3));
        try (Repository repo = Repository.init(RepositoryUri.parse("file:" + work.resolve("repo")),
                RepositoryOptions.builder().camelContext(camel.context()).build())) {
            SnapshotManifest m = repo.load(ImageBackup.full(repo, image, "vm1", "vda"));
            List<ExtentMap.ChunkRef> chunks = m.extents().chunks();
            assertThat(chunks.size()).isGreaterThanOrEqualTo(4);
            int size = chunks.get(0).length();
            ChunkCache cache = new ChunkCache(repo, 2L * size);
            cache.get(chunks.get(0));
            cache.get(chunks.get(1));
            cache.get(chunks.get(0)); // 0 is now the most recent
            assertThat(cache.hits()).isEqualTo(1);
            cache.get(chunks.get(2)); // drops 1
            assertThat(cache.heldBytes()).isLessThanOrEqualTo(2L * size);
            cache.get(chunks.get(0));
            assertThat(cache.hits()).isEqualTo(2);
            cache.get(chunks.get(1));
            assertThat(cache.misses()).isEqualTo(4);
            // nothing held with a zero budget
            ChunkCache none = new ChunkCache(repo, 0);
            none.get(chunks.get(0));
            none.get(chunks.get(0));
            assertThat(none.heldBytes()).isZero();
            assertThat(none.misses()).isEqualTo(2);
        }
    }

    @Test
    void aSequentialReadFetchesTheNextChunksAheadOnlyWithReadAheadThreads() throws Exception {
        Path image = QemuImages.createQcow2(work.resolve("disk.qcow2"), 32 * MIB);
        QemuImages.writeRandom(image, 0, (int) (32 * MIB), new Random(4));
        try (Repository repo = Repository.init(RepositoryUri.parse("file:" + work.resolve("repo")),
                RepositoryOptions.builder().camelContext(camel.context()).build())) {
            SnapshotManifest m = repo.load(ImageBackup.full(repo, image, "vm1", "vda"));
            int chunk = m.extents().chunks().get(0).length();
            try (ChunkCache ahead = new ChunkCache(repo, 64 * MIB, 2)) {
                // a random read fetches only its own chunk
                new SnapshotImage(m, ahead).read(0, 4096, new byte[4096], 0, false);
                Thread.sleep(200);
                assertThat(ahead.heldBytes()).isEqualTo(chunk);
                new SnapshotImage(m, ahead).read(4096, 4096, new byte[4096], 0, true);
                long deadline = System.nanoTime() + java.time.Duration.ofSeconds(20).toNanos();
                while (ahead.heldBytes() < (long) SnapshotImage.READ_AHEAD_CHUNKS * chunk && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertThat(ahead.heldBytes()).isEqualTo((long) SnapshotImage.READ_AHEAD_CHUNKS * chunk);
            }
            try (ChunkCache plain = new ChunkCache(repo, 64 * MIB)) {
                new SnapshotImage(m, plain).read(0, 4096, new byte[4096], 0, true);
                Thread.sleep(200);
                assertThat(plain.heldBytes()).isEqualTo(chunk);
            }
        }
    }
}
