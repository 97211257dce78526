package dev.coldcopy.repository.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.repository.ChunkAddress;
import dev.coldcopy.repository.ExtentMap;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.repository.testing.ImageBackup;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.repository.testing.StartedCamel;
import dev.coldcopy.restore.RestoreFormat;
import dev.coldcopy.restore.RestoreRequest;
import dev.coldcopy.restore.Restorer;
import dev.coldcopy.repository.verify.Verifier;
import dev.coldcopy.repository.verify.VerifyResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prune on a real repository of ~30 snapshots of two disks (real qcow2 images, every state kept aside):
 * what the rules keep restores identical, verify passes, no unused chunk remains, and the bytes the
 * backend holds went down by what prune reported (measured on the server's own disk).
 */
abstract class AbstractPruneTest {
    static final long MIB = 1024 * 1024;
    static final long DISK = 16 * MIB;
    static final int SNAPSHOTS_PER_DISK = 15;

    @TempDir
    Path work;
    @RegisterExtension
    final StartedCamel camel = new StartedCamel();

    abstract RepositoryUri repositoryUri() throws Exception;

    abstract RepositoryOptions.Builder backendOptions(RepositoryOptions.Builder b);

    /** the local directory where the backend keeps the repository's objects (to measure bytes on disk) */
    abstract Path storageRoot() throws Exception;

    RepositoryOptions options() {
        return backendOptions(RepositoryOptions.builder().camelContext(camel.context()).parallelism(2)).build();
    }

    @Test
    void pruneKeepsWhatTheRulesSayAndFreesTheRest() throws Exception {
        Map<SnapshotId, Path> states = new LinkedHashMap<>();
        try (Repository repo = Repository.init(repositoryUri(), options())) {
            Random r = new Random(42);
            for (String disk : List.of("vda", "vdb")) {
                Path image = QemuImages.createQcow2(work.resolve(disk + ".qcow2"), DISK);
                QemuImages.writeRandom(image, 0, (int) (6 * MIB), r);
                QemuImages.io(image, "write -P 0x11 8M 4M"); // the same in both disks: shared chunks
                SnapshotManifest parent = repo.load(ImageBackup.full(repo, image, "web", disk));
                states.put(parent.id(), keep(image, parent.id()));
                for (int i = 1; i < SNAPSHOTS_PER_DISK; i++) {
                    List<ImageBackup.Range> dirty = new ArrayList<>();
                    for (int k = 0; k < 3; k++) {
                        long off = r.nextInt((int) (DISK / (64 * 1024))) * 64 * 1024L;
                        QemuImages.writeRandom(image, off, 64 * 1024, r);
                        dirty.add(new ImageBackup.Range(off, 64 * 1024));
                    }
                    if (i % 5 == 0) { // now and then a whole new window: a chunk of its own
                        QemuImages.writeRandom(image, 4 * MIB, (int) (4 * MIB), r);
                        dirty.add(new ImageBackup.Range(4 * MIB, 4 * MIB));
                    }
                    parent = repo.load(ImageBackup.incremental(repo, image, parent, merge(dirty)));
                    states.put(parent.id(), keep(image, parent.id()));
                }
            }
            assertThat(repo.list(Optional.empty())).hasSize(2 * SNAPSHOTS_PER_DISK);
            long bytesBefore = bytesOnDisk();

            // a dry run changes nothing
            Pruner.Request rules = new Pruner.Request(Optional.empty(), Optional.empty(), KeepRules.NONE.withLast(4), true, Duration.ofSeconds(30));
            PruneResult dry = new Pruner(repo).prune(rules, d -> { });
            assertThat(dry.snapshotsRemoved()).isEqualTo(2 * (SNAPSHOTS_PER_DISK - 4));
            assertThat(dry.chunksRemoved()).isPositive();
            assertThat(repo.list(Optional.empty())).hasSize(2 * SNAPSHOTS_PER_DISK);
            assertThat(bytesOnDisk()).isEqualTo(bytesBefore);

            List<PruneResult.DiskOutcome> reported = new ArrayList<>();
            PruneResult result = new Pruner(repo).prune(new Pruner.Request(Optional.empty(), Optional.empty(),
                    KeepRules.NONE.withLast(4), false, Duration.ofSeconds(30)), reported::add);
            assertThat(result.snapshotsRemoved()).isEqualTo(2 * (SNAPSHOTS_PER_DISK - 4));
            assertThat(result.snapshotsKept()).isEqualTo(8);
            assertThat(result.chunksRemoved()).isEqualTo(dry.chunksRemoved());
            assertThat(result.bytesFreed()).isEqualTo(dry.bytesFreed()).isPositive();
            assertThat(result.chunksMissing()).isZero();
            assertThat(reported).extracting(d -> d.vm() + "/" + d.disk() + " " + d.kept().size() + "+" + d.removed().size())
                    .containsExactlyInAnyOrder("web/vda 4+11", "web/vdb 4+11");
            assertThat(bytesBefore - bytesOnDisk()).as("bytes freed on the backend's disk").isEqualTo(result.bytesFreed());

            // the newest four of each disk are left, and each restores identical to the disk at that time
            List<SnapshotId> left = repo.snapshotIds();
            assertThat(left).hasSize(8);
            for (SnapshotId id : left) {
                Path out = work.resolve("restored-" + id + ".raw");
                new Restorer(repo).restore(RestoreRequest.of(repo.load(id), out, RestoreFormat.RAW));
                assertThat(QemuImages.identical(out, states.get(id))).as("snapshot " + id + " restores identical").isTrue();
                Files.delete(out);
            }
            assertThat(new Verifier(repo).verify(Optional.empty()).problems()).isEmpty();
            assertThat(storedChunks(repo)).as("no unused chunk remains").isEqualTo(usedChunks(repo));
            assertThat(repo.backend().list("locks/")).as("the prune's lock is gone").isEmpty();

            // the same rules again: nothing more to do
            PruneResult again = new Pruner(repo).prune(new Pruner.Request(Optional.empty(), Optional.empty(),
                    KeepRules.NONE.withLast(4), false, Duration.ofSeconds(30)), d -> { });
            assertThat(again.snapshotsRemoved()).isZero();
            assertThat(again.chunksRemoved()).isZero();

            // one disk only: vdb keeps one, vda is left alone
            PruneResult one = new Pruner(repo).prune(new Pruner.Request(Optional.of("web"), Optional.of("vdb"),
                    KeepRules.NONE.withLast(1), false, Duration.ofSeconds(30)), d -> { });
            assertThat(one.snapshotsRemoved()).isEqualTo(3);
            assertThat(repo.list(Optional.empty())).extracting(s -> s.disk()).filteredOn("vda"::equals).hasSize(4);
            assertThat(new Verifier(repo).verify(Optional.empty()).problems()).isEmpty();

            // verify reports a chunk nothing uses; the next prune removes it
            ChunkAddress stray = ChunkAddress.parse("ab".repeat(32));
            repo.backend().put(stray.key(), new byte[100]);
            VerifyResult withStray = new Verifier(repo).verify(Optional.empty());
            assertThat(withStray.problems()).isEmpty();
            assertThat(withStray.unusedChunks()).isEqualTo(1);
            assertThat(withStray.unusedChunkBytes()).isEqualTo(100);
            PruneResult collected = new Pruner(repo).prune(new Pruner.Request(Optional.empty(), Optional.empty(),
                    KeepRules.NONE.withLast(4), false, Duration.ofSeconds(30)), d -> { });
            assertThat(collected.snapshotsRemoved()).isZero();
            assertThat(collected.chunksRemoved()).isEqualTo(1);
            assertThat(new Verifier(repo).verify(Optional.empty()).unusedChunks()).isZero();
        }
    }

    @Test
    void noKeepRuleIsRefused() {
        assertThatThrownBy(() -> new Pruner.Request(Optional.empty(), Optional.empty(), KeepRules.NONE, false, Duration.ZERO))
                .hasMessageContaining("no keep rule");
    }

    private Path keep(Path image, SnapshotId id) throws Exception {
        Path copy = work.resolve("state-" + id + ".qcow2");
        QemuImages.copy(image, copy);
        return copy;
    }

    long bytesOnDisk() throws Exception {
        Path chunks = storageRoot().resolve("chunks");
        if (!Files.isDirectory(chunks)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(chunks)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    static Set<ChunkAddress> storedChunks(Repository repo) throws Exception {
        Set<ChunkAddress> out = new HashSet<>();
        for (String key : repo.backend().list(ChunkAddress.PREFIX)) {
            out.add(ChunkAddress.fromKey(key));
        }
        return out;
    }

    static Set<ChunkAddress> usedChunks(Repository repo) throws Exception {
        Set<ChunkAddress> out = new HashSet<>();
        for (SnapshotId id : repo.snapshotIds()) {
            for (ExtentMap.ChunkRef c : repo.load(id).extents().chunks()) {
                out.add(c.address());
            }
        }
        return out;
    }

    static List<ImageBackup.Range> merge(List<ImageBackup.Range> ranges) {
        List<ImageBackup.Range> sorted = new ArrayList<>(ranges);
        sorted.sort((x, y) -> Long.compare(x.offset(), y.offset()));
        List<ImageBackup.Range> out = new ArrayList<>();
        for (ImageBackup.Range x : sorted) {
            if (!out.isEmpty() && out.get(out.size() - 1).end() >= x.offset()) {
                ImageBackup.Range last = out.remove(out.size() - 1);
                out.add(new ImageBackup.Range(last.offset(), Math.max(last.end(), x.end()) - last.offset()));
            } else {
                out.add(x);
            }
        }
        return out;
    }
}
