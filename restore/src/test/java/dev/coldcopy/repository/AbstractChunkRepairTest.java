package dev.coldcopy.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.repository.backend.RepositoryBackend;
import dev.coldcopy.repository.testing.ImageBackup;
import dev.coldcopy.repository.testing.TestDisks;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.repository.testing.StartedCamel;
import dev.coldcopy.restore.RestoreFormat;
import dev.coldcopy.restore.RestoreRequest;
import dev.coldcopy.restore.Restorer;
import dev.coldcopy.repository.verify.Verifier;
import dev.coldcopy.repository.verify.VerifyResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A damaged chunk is not reused forever: verify quarantines it and names the snapshots it broke, the
 * next backup of the same data stores it afresh, and the old snapshot restores identical again. A backup
 * also refuses to reuse a chunk whose stored length is visibly wrong (truncated, emptied) without verify.
 */
abstract class AbstractChunkRepairTest {
    static final long MIB = 1024 * 1024;

    @TempDir
    Path work;
    @RegisterExtension
    final StartedCamel camel = new StartedCamel();

    abstract RepositoryUri repositoryUri() throws Exception;

    abstract RepositoryOptions.Builder backendOptions(RepositoryOptions.Builder b);

    private Path image() {
        return TestDisks.dataAndText(work.resolve("disk.qcow2"));
    }

    private Repository open(boolean init) throws Exception {
        RepositoryOptions options = backendOptions(RepositoryOptions.builder().camelContext(camel.context()).parallelism(2)).build();
        return init ? Repository.init(repositoryUri(), options) : Repository.open(repositoryUri(), options);
    }

    @Test
    void verifyQuarantinesAndTheNextBackupRepairs() throws Exception {
        Path image = image();
        // a long-lived repository (the service's) backs up before and after another process verifies
        try (Repository service = open(true)) {
            SnapshotId first = ImageBackup.full(service, image, "vm", "vda");
            ChunkAddress damaged = service.load(first).extents().chunks().get(1).address();
            // one flipped byte in the middle of the stored chunk: same length, only a full read sees it
            RepositoryBackend backend = service.backend();
            byte[] bad = backend.get(damaged.key());
            bad[bad.length / 2] ^= 0x01;
            backend.put(damaged.key(), bad);

            try (Repository repo = open(false)) {
                VerifyResult v = new Verifier(repo).verify(Optional.empty());
                assertThat(v.ok()).isFalse();
                assertThat(v.problems()).hasSize(1);
                VerifyResult.Problem p = v.problems().get(0);
                assertThat(p.object()).isEqualTo("chunk " + damaged.hex());
                assertThat(p.reason()).contains("checksum");
                assertThat(v.brokenSnapshots()).containsExactly(first.value());
                assertThat(p.movedTo()).startsWith(Repository.QUARANTINE + damaged.key() + ".");
                assertThat(p.toString()).contains("used by " + first.value()).contains("moved to quarantine/chunks/");
                assertThat(repo.backend().exists(damaged.key())).as("out of the chunk namespace").isFalse();
                assertThat(repo.backend().list(Repository.QUARANTINE)).containsExactly(p.movedTo());
            }
            assertThat(service.lostChunks()).containsExactly(damaged);
            assertThat(service.latestRestorable("vm", "vda")).as("no incremental on a broken base").isEmpty();

            // the next backup of the same data stores the chunk afresh
            SnapshotId second = ImageBackup.full(service, image, "vm", "vda");
            assertThat(service.load(second).statistics().chunksNew()).isEqualTo(1);
            assertThat(service.backend().exists(damaged.key())).isTrue();
            assertThat(service.lostChunks()).isEmpty();
            assertThat(service.latestRestorable("vm", "vda")).isPresent();
            VerifyResult again = new Verifier(service).verify(Optional.empty());
            assertThat(again.problems()).isEmpty();
            assertThat(again.snapshots()).isEqualTo(2);
            // the old snapshot restores identical again (same address, same content)
            assertRestores(service, first, image);
            assertThat(service.backend().list(Repository.QUARANTINE)).as("the damaged copy is kept for inspection").hasSize(1);
        }
    }

    @Test
    void backupDoesNotReuseAChunkWhoseLengthIsWrong() throws Exception {
        Path image = image();
        try (Repository repo = open(true)) {
            SnapshotId first = ImageBackup.full(repo, image, "vm", "vda");
            List<ExtentMap.ChunkRef> chunks = repo.load(first).extents().chunks();
            ChunkAddress truncated = chunks.get(0).address();
            ChunkAddress emptied = chunks.get(chunks.size() - 1).address();
            byte[] stored = repo.backend().get(truncated.key());
            repo.backend().put(truncated.key(), Arrays.copyOf(stored, stored.length - 100));
            repo.backend().put(emptied.key(), new byte[0]); // what a crash before the data reached the disk leaves
            assertThatThrownBy(() -> repo.readChunk(truncated)).isInstanceOf(ChunkCorruptException.class);

            SnapshotId second = ImageBackup.full(repo, image, "vm", "vda");
            assertThat(repo.load(second).statistics().chunksNew()).as("both stored again").isEqualTo(2);
            assertThat(repo.backend().list(Repository.QUARANTINE)).hasSize(2)
                    .anyMatch(k -> k.startsWith(Repository.QUARANTINE + truncated.key()))
                    .anyMatch(k -> k.startsWith(Repository.QUARANTINE + emptied.key()));
            assertThat(new Verifier(repo).verify(Optional.empty()).ok()).isTrue();
            assertRestores(repo, first, image);
            // intact chunks are still reused
            SnapshotId third = ImageBackup.full(repo, image, "vm", "vda");
            assertThat(repo.load(third).statistics().chunksNew()).isZero();
        }
    }

    private void assertRestores(Repository repo, SnapshotId id, Path image) throws Exception {
        Path out = work.resolve("restored-" + id + ".raw");
        new Restorer(repo).restore(RestoreRequest.of(repo.load(id), out, RestoreFormat.RAW));
        assertThat(QemuImages.identical(out, image)).as("snapshot " + id + " restores identical").isTrue();
        Files.delete(out);
    }
}
