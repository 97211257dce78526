package dev.coldcopy.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.repository.testing.ImageBackup;
import dev.coldcopy.repository.testing.TestDisks;
import dev.coldcopy.repository.testing.ImageBackup.Range;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.restore.RestoreException;
import dev.coldcopy.restore.RestoreFormat;
import dev.coldcopy.restore.RestoreRequest;
import dev.coldcopy.restore.Restorer;
import dev.coldcopy.repository.verify.Verifier;
import dev.coldcopy.repository.verify.VerifyResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import dev.coldcopy.repository.testing.StartedCamel;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backup/restore round trip every backend must pass: full, incremental (synthetic full), deleting
 * the older snapshot, delta onto a base, the cost of scattered small changes, verify.
 */
abstract class AbstractRoundTripTest {
    static final long MIB = 1024 * 1024;
    static final long DISK = 64 * MIB;

    @TempDir
    Path work;
    @RegisterExtension
    final StartedCamel camel = new StartedCamel();

    /** the repository URI for this backend (the backend's server is running) */
    abstract RepositoryUri repositoryUri() throws Exception;

    /** options for this backend (credentials, keys) on top of the given builder */
    abstract RepositoryOptions.Builder backendOptions(RepositoryOptions.Builder b);


    RepositoryOptions options() {
        return backendOptions(RepositoryOptions.builder().camelContext(camel.context()).parallelism(2)).build();
    }

    static Path makeImage(Path image) {
        return TestDisks.mixed(image, 11);
    }

    @Test
    void fullIncrementalDeltaRoundTrip() throws Exception {
        Path image = makeImage(work.resolve("disk.qcow2"));
        Path v1 = work.resolve("v1.qcow2");
        try (Repository repo = Repository.init(repositoryUri(), options())) {
            assertThat(repo.id()).matches("[0-9a-f]{8}");
            // full
            SnapshotId fullId = ImageBackup.full(repo, image, "vm1", "vda");
            QemuImages.copy(image, v1);
            SnapshotManifest full = repo.load(fullId);
            assertThat(full.kind()).isEqualTo(SnapshotKind.FULL);
            assertRestoresTo(repo, full, image, RestoreFormat.RAW, "full raw");
            assertRestoresTo(repo, full, image, RestoreFormat.QCOW2, "full");

            // scattered 64 KiB random writes, a zeroed range, a text write across a chunk boundary
            Random r = new Random(5);
            List<Range> dirty = new ArrayList<>();
            long dirtyData = 0;
            for (int i = 0; i < 24; i++) {
                long off = (r.nextInt((int) (DISK / (64 * 1024)))) * 64 * 1024L;
                if (dirty.stream().anyMatch(d -> d.offset() == off)) {
                    continue;
                }
                QemuImages.writeRandom(image, off, 64 * 1024, r);
                dirty.add(new Range(off, 64 * 1024));
                dirtyData += 64 * 1024;
            }
            dirty = merge(dirty);
            QemuImages.io(image, "write -z 2M 1M");
            dirty = merge(concat(dirty, new Range(2 * MIB, MIB)));
            QemuImages.writeText(image, 16 * MIB - 100 * 1024, 300 * 1024, r);
            dirty = merge(concat(dirty, new Range(16 * MIB - 100 * 1024, 300 * 1024)));
            dirtyData += 300 * 1024;

            SnapshotId incId = ImageBackup.incremental(repo, image, full, dirty);
            SnapshotManifest inc = repo.load(incId);
            assertThat(inc.kind()).isEqualTo(SnapshotKind.INCREMENTAL);
            assertThat(inc.parent()).contains(fullId);
            BackupStatistics s = inc.statistics();
            System.out.printf("%s incremental: dirty data %d bytes, new chunk bytes %d, stored %d (%.3fx), chunks new %d reused %d%n",
                    getClass().getSimpleName(), dirtyData, s.bytesNew(), s.bytesStored(), (double) s.bytesStored() / dirtyData,
                    s.chunksNew(), s.chunksReused());
            assertThat(s.bytesNew()).as("plaintext bytes of new chunks").isLessThanOrEqualTo((long) (dirtyData * 1.25));
            assertThat(s.bytesStored()).as("bytes stored by the incremental").isLessThanOrEqualTo((long) (dirtyData * 1.25));
            assertRestoresTo(repo, inc, image, RestoreFormat.QCOW2, "incremental");
            // the full still restores to the old state
            assertRestoresTo(repo, repo.load(fullId), v1, RestoreFormat.RAW, "full again");

            // losing the full breaks nothing: the incremental is a synthetic full
            repo.deleteSnapshot(fullId);
            assertThat(repo.snapshotIds()).containsExactly(incId);
            assertRestoresTo(repo, repo.load(incId), image, RestoreFormat.RAW, "incremental without its parent");

            // a delta since a foreign checkpoint, restored onto the image as it was at that checkpoint
            Path base = work.resolve("base.qcow2");
            QemuImages.copy(image, base);
            List<Range> dirty2 = new ArrayList<>();
            for (long off : new long[] {MIB, 9 * MIB + 4096, 33 * MIB, 60 * MIB}) {
                QemuImages.writeRandom(image, off, 128 * 1024, r);
                dirty2.add(new Range(off, 128 * 1024));
            }
            QemuImages.io(image, "write -z 16M 512K");
            dirty2.add(new Range(16 * MIB, 512 * 1024));
            SnapshotId deltaId = ImageBackup.delta(repo, image, "vm1", "vda", "libvirt-checkpoint-1", merge(dirty2));
            SnapshotManifest delta = repo.load(deltaId);
            assertThat(delta.kind()).isEqualTo(SnapshotKind.DELTA);
            assertThat(delta.header().checkpointUsed()).isEqualTo("libvirt-checkpoint-1");
            Path noBase = work.resolve("nobase.qcow2");
            assertThatThrownBy(() -> new Restorer(repo).restore(RestoreRequest.of(delta, noBase, RestoreFormat.QCOW2)))
                    .isInstanceOf(RestoreException.class).hasMessageContaining("--onto");
            assertThat(noBase).doesNotExist();
            byte[] baseBefore = Files.readAllBytes(base);
            for (RestoreFormat f : RestoreFormat.values()) {
                Path out = work.resolve("delta-out." + f.qemuName());
                // synced: the fsync path of both sinks (qemu-nbd --cache=writeback, raw force)
                new Restorer(repo).restore(new RestoreRequest(delta, out, f, Optional.of(base), true));
                assertThat(QemuImages.identical(out, image)).as("delta onto base as " + f).isTrue();
                Files.delete(out);
            }
            assertThat(Files.readAllBytes(base)).as("the base image is never changed").isEqualTo(baseBefore);

            // listing, latest, verify
            assertThat(repo.list(Optional.of("vm1"))).extracting(SnapshotSummary::id).containsExactly(incId, deltaId);
            assertThat(repo.latest("vm1", "vda").map(SnapshotManifest::id)).contains(deltaId);
            assertThat(repo.latestRestorable("vm1", "vda").map(SnapshotManifest::id)).contains(incId);
            assertThat(repo.latest("vm2", "vda")).isEmpty();
            VerifyResult v = new Verifier(repo).verify(Optional.empty());
            assertThat(v.problems()).isEmpty();
            assertThat(v.snapshots()).isEqualTo(2);
        }
        // reopening finds everything
        try (Repository again = Repository.open(repositoryUri(), options())) {
            assertThat(again.snapshotIds()).hasSize(2);
        }
    }

    void assertRestoresTo(Repository repo, SnapshotManifest m, Path expected, RestoreFormat format, String what) throws Exception {
        Path out = work.resolve("restore-" + m.id() + "." + format.qemuName());
        new Restorer(repo).restore(RestoreRequest.of(m, out, format));
        if (!QemuImages.identical(out, expected)) {
            System.out.println(what + ": " + QemuImages.compareMessage(out, expected));
        }
        assertThat(QemuImages.identical(out, expected)).as(what + " restored as " + format + " is identical").isTrue();
        Files.delete(out);
    }

    static List<Range> concat(List<Range> a, Range b) {
        List<Range> out = new ArrayList<>(a);
        out.add(b);
        return out;
    }

    /** sorted, overlapping or touching ranges joined (as a bitmap would report them) */
    static List<Range> merge(List<Range> ranges) {
        List<Range> sorted = new ArrayList<>(ranges);
        sorted.sort((x, y) -> Long.compare(x.offset(), y.offset()));
        List<Range> out = new ArrayList<>();
        for (Range x : sorted) {
            if (!out.isEmpty() && out.get(out.size() - 1).end() >= x.offset()) {
                Range last = out.remove(out.size() - 1);
                out.add(new Range(last.offset(), Math.max(last.end(), x.end()) - last.offset()));
            } else {
                out.add(x);
            }
        }
        return out;
    }
}
