package dev.coldcopy.repository.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.repository.BackupStatistics;
import dev.coldcopy.repository.ChunkAddress;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.SnapshotHeader;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.SnapshotKind;
import dev.coldcopy.repository.SnapshotWriter;
import dev.coldcopy.repository.testing.StartedCamel;
import dev.coldcopy.restore.RestoreFormat;
import dev.coldcopy.restore.RestoreRequest;
import dev.coldcopy.restore.Restorer;
import dev.coldcopy.repository.verify.Verifier;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.LongPredicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * kill -9 of a prune at six points, watched from outside on the repository's files: once it holds its
 * lock, after its first and half its snapshots are gone, after all of them, after its first and many of
 * its chunks are gone. Then the next prune (here) must finish the job: the stale lock of the dead
 * process is recognised, every kept snapshot restores identical, verify is clean, no chunk is left that
 * nothing uses, and nothing used is missing.
 */
class PruneKillTest {
    static final int WINDOW = 64 * 1024;
    static final int DISKS = 2;
    static final int SNAPSHOTS = 10;
    static final int CHUNKS_PER_SNAPSHOT = 150;
    static final long DISK_SIZE = 256L * WINDOW;
    static final int TOTAL_CHUNKS = DISKS * SNAPSHOTS * CHUNKS_PER_SNAPSHOT;

    @TempDir
    static Path shared;
    static Path template;
    static final Map<SnapshotId, int[]> CONTENT = new HashMap<>(); // snapshot -> {disk, generation}

    @TempDir
    Path work;
    @RegisterExtension
    final StartedCamel camel = new StartedCamel();

    enum Point {
        LOCKED(Watch.LOCKS, n -> n > 0),
        FIRST_SNAPSHOT_GONE(Watch.SNAPSHOTS, n -> n < DISKS * SNAPSHOTS),
        HALF_SNAPSHOTS_GONE(Watch.SNAPSHOTS, n -> n <= DISKS * SNAPSHOTS / 2 + 2),
        ALL_SNAPSHOTS_GONE(Watch.SNAPSHOTS, n -> n <= DISKS * 2),
        FIRST_CHUNKS_GONE(Watch.CHUNKS, n -> n < TOTAL_CHUNKS),
        MANY_CHUNKS_GONE(Watch.CHUNKS, n -> n <= TOTAL_CHUNKS * 3 / 4);

        final Watch watch;
        final LongPredicate reached;

        Point(Watch watch, LongPredicate reached) {
            this.watch = watch;
            this.reached = reached;
        }
    }

    enum Watch { LOCKS, SNAPSHOTS, CHUNKS }

    /** one repository of 2 x 10 snapshots, each of 150 chunks of its own, copied for every kill */
    @BeforeAll
    static void buildRepository() throws Exception {
        template = shared.resolve("template");
        try (Repository repo = Repository.init(RepositoryUri.parse("file:" + template),
                RepositoryOptions.builder().chunkSize(WINDOW).durableWrites(false).parallelism(2).build())) {
            for (int d = 0; d < DISKS; d++) {
                for (int g = 0; g < SNAPSHOTS; g++) {
                    SnapshotHeader header = new SnapshotHeader("vm", "vd" + (char) ('a' + d), "/images/vd" + d, DISK_SIZE,
                            SnapshotKind.FULL, "test", null, null);
                    try (SnapshotWriter w = repo.newSnapshot(header, Optional.empty())) {
                        for (int i = 0; i < CHUNKS_PER_SNAPSHOT; i++) {
                            w.putData((long) i * WINDOW, window(d, g, i), WINDOW);
                        }
                        CONTENT.put(w.commit(BackupStatistics.read(0, Duration.ofMillis(1))), new int[] {d, g});
                    }
                }
            }
        }
    }

    /** a window whose first bytes say which disk, generation and window it is: every chunk unique */
    static byte[] window(int disk, int generation, int index) {
        byte[] b = new byte[WINDOW];
        ByteBuffer.wrap(b).putInt(0xC0DEC0DE).putInt(disk).putInt(generation).putInt(index);
        return b;
    }

    @ParameterizedTest(name = "killed when {0}")
    @EnumSource(Point.class)
    void theNextPruneFinishesWhatAKilledOneBegan(Point point) throws Exception {
        Path repoDir = work.resolve("repo");
        copy(template, repoDir);
        RepositoryUri uri = RepositoryUri.parse("file:" + repoDir);

        Process prune = PruneMain.command(uri.toString(), 2).redirectOutput(work.resolve("prune.log").toFile()).start();
        boolean killed = false;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (prune.isAlive() && System.nanoTime() < deadline) {
                if (point.reached.test(count(repoDir, point.watch))) {
                    prune.destroyForcibly(); // SIGKILL
                    killed = true;
                    break;
                }
                Thread.sleep(1);
            }
            prune.waitFor(30, TimeUnit.SECONDS);
        } finally {
            prune.destroyForcibly();
        }
        assertThat(killed).as("the prune was still running when " + point + ": " + Files.readString(work.resolve("prune.log"))).isTrue();

        try (Repository repo = Repository.open(uri, RepositoryOptions.builder().camelContext(camel.context()).parallelism(2).build())) {
            PruneResult r = new Pruner(repo).prune(new Pruner.Request(Optional.empty(), Optional.empty(), KeepRules.NONE.withLast(2),
                    false, Duration.ofSeconds(30)), d -> { });
            assertThat(r.chunksMissing()).as("chunks used but missing").isZero();
            List<SnapshotId> left = repo.snapshotIds();
            assertThat(left).hasSize(DISKS * 2);
            for (SnapshotId id : left) {
                int[] dg = CONTENT.get(id);
                assertThat(dg[1]).as("only the two newest of each disk are left").isGreaterThanOrEqualTo(SNAPSHOTS - 2);
                Path out = work.resolve("out-" + id + ".raw");
                new Restorer(repo).restore(RestoreRequest.of(repo.load(id), out, RestoreFormat.RAW));
                assertRestored(out, dg[0], dg[1]);
                Files.delete(out);
            }
            assertThat(new Verifier(repo).verify(Optional.empty()).problems()).isEmpty();
            assertThat(AbstractPruneTest.storedChunks(repo)).as("no unused chunk left").isEqualTo(AbstractPruneTest.usedChunks(repo));
            assertThat(repo.locks().list()).as("the dead prune's lock is gone").isEmpty();
            assertThat(count(repoDir, Watch.SNAPSHOTS)).isEqualTo(DISKS * 2);
            assertThat(repo.backend().list("summaries/")).hasSize(DISKS * 2);
        }
    }

    private static void assertRestored(Path raw, int disk, int generation) throws IOException {
        byte[] expected = new byte[(int) DISK_SIZE];
        for (int i = 0; i < CHUNKS_PER_SNAPSHOT; i++) {
            System.arraycopy(window(disk, generation, i), 0, expected, i * WINDOW, WINDOW);
        }
        assertThat(java.util.Arrays.equals(Files.readAllBytes(raw), expected))
                .as("disk " + disk + " generation " + generation + " restored identical").isTrue();
    }

    private static long count(Path repo, Watch watch) throws IOException {
        Path dir = repo.resolve(switch (watch) {
            case LOCKS -> "locks";
            case SNAPSHOTS -> "snapshots";
            case CHUNKS -> ChunkAddress.PREFIX;
        });
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(p -> !Files.isDirectory(p))
                    .filter(p -> watch != Watch.LOCKS || p.getFileName().toString().startsWith("exclusive-"))
                    .count();
        } catch (java.io.UncheckedIOException e) {
            return count(repo, watch); // a file vanished while we walked
        }
    }

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }
}
