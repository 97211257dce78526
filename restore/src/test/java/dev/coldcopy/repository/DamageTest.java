package dev.coldcopy.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.repository.testing.ImageBackup;
import dev.coldcopy.repository.testing.TestDisks;
import dev.coldcopy.restore.RestoreException;
import dev.coldcopy.restore.RestoreFormat;
import dev.coldcopy.restore.RestoreRequest;
import dev.coldcopy.restore.Restorer;
import dev.coldcopy.repository.verify.Verifier;
import dev.coldcopy.repository.verify.VerifyResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Damaged, missing chunks and wrong keys are named by verify and stop a restore before a wrong disk is written. */
class DamageTest {
    private static final long MIB = 1024 * 1024;

    @TempDir
    Path work;

    private Path image() {
        return TestDisks.dataAndText(work.resolve("disk.qcow2"));
    }

    @Test
    void flippedByteAndMissingChunkAreNamedAndRestoreLeavesNoOutput() throws Exception {
        Path image = image();
        Path repoDir = work.resolve("repo");
        try (DefaultCamelContext camel = new DefaultCamelContext()) {
            camel.start();
            try (Repository repo = Repository.init(RepositoryUri.file(repoDir), RepositoryOptions.builder().camelContext(camel).build())) {
                SnapshotId id = ImageBackup.full(repo, image, "vm", "vda");
                SnapshotManifest m = repo.load(id);
                assertThat(new Verifier(repo).verify(Optional.of(id)).ok()).isTrue();
                assertThat(m.extents().chunks().size()).isGreaterThanOrEqualTo(4);

                // one flipped byte in the middle of a stored chunk
                ChunkAddress damaged = m.extents().chunks().get(1).address();
                Path file = repoDir.resolve(damaged.key());
                byte[] good = Files.readAllBytes(file);
                byte[] bad = good.clone();
                bad[bad.length / 2] ^= 0x01;
                Files.write(file, bad);
                // report only (verify --no-quarantine): the chunk stays where it is
                VerifyResult v = new Verifier(repo, false).verify(Optional.empty());
                assertThat(v.problems()).hasSize(1);
                assertThat(v.problems().get(0).object()).isEqualTo("chunk " + damaged.hex());
                assertThat(v.problems().get(0).reason()).contains("checksum");
                assertThat(v.problems().get(0).snapshots()).containsExactly(id.value());
                assertThat(v.problems().get(0).movedTo()).isNull();
                assertThat(file).exists();
                for (RestoreFormat f : RestoreFormat.values()) {
                    Path out = work.resolve("out." + f.qemuName());
                    assertThatThrownBy(() -> new Restorer(repo).restore(RestoreRequest.of(m, out, f)))
                            .isInstanceOf(RestoreException.class)
                            .hasMessageContaining(damaged.hex())
                            .hasMessageContaining("checksum")
                            .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
                    assertThat(out).as("no partial output").doesNotExist();
                }
                Files.write(file, good);

                // a missing chunk
                ChunkAddress missing = m.extents().chunks().get(2).address();
                Files.delete(repoDir.resolve(missing.key()));
                v = new Verifier(repo).verify(Optional.of(id));
                assertThat(v.problems()).extracting(VerifyResult.Problem::object).containsExactly("chunk " + missing.hex());
                assertThat(v.problems().get(0).reason()).contains("missing");
                Path out = work.resolve("out2.qcow2");
                assertThatThrownBy(() -> new Restorer(repo).restore(RestoreRequest.of(m, out, RestoreFormat.QCOW2)))
                        .hasMessageContaining(missing.hex()).hasMessageContaining("missing");
                assertThat(out).doesNotExist();
                assertThat(work.resolve(".out2.qcow2.coldcopy-raw")).doesNotExist();
            }
        }
    }

    @Test
    void wrongOrMissingKeyFailsClearly() throws Exception {
        Path key1 = work.resolve("key1");
        Path key2 = work.resolve("key2");
        RepositoryKeys.generateKeyFile(key1);
        RepositoryKeys.generateKeyFile(key2);
        RepositoryUri uri = RepositoryUri.file(work.resolve("repo"));
        try (Repository repo = Repository.init(uri, RepositoryOptions.builder().keyFile(key1).build())) {
            assertThat(repo.config().encrypted()).isTrue();
        }
        assertThatThrownBy(() -> Repository.open(uri, RepositoryOptions.builder().keyFile(key2).build()))
                .isInstanceOf(RepositoryKeyException.class).hasMessageContaining("wrong key").hasMessageContaining("key2");
        assertThatThrownBy(() -> Repository.open(uri, RepositoryOptions.defaults()))
                .isInstanceOf(RepositoryKeyException.class).hasMessageContaining("encrypted").hasMessageContaining("key file");
        Files.writeString(work.resolve("short"), "abc");
        assertThatThrownBy(() -> Repository.open(uri, RepositoryOptions.builder().keyFile(work.resolve("short")).build()))
                .isInstanceOf(RepositoryKeyException.class).hasMessageContaining("32-byte");
        assertThatThrownBy(() -> Repository.init(uri, RepositoryOptions.builder().keyFile(key1).build()))
                .hasMessageContaining("already exists");
    }
}
