package dev.coldcopy.repository;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.repository.testing.ImageBackup;
import dev.coldcopy.repository.testing.ImageBackup.Range;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.restore.RestoreFormat;
import dev.coldcopy.restore.RestoreRequest;
import dev.coldcopy.restore.Restorer;
import dev.coldcopy.repository.verify.Verifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An encrypted repository round trip: nothing readable at rest, everything restores. */
class EncryptionTest {
    private static final long MIB = 1024 * 1024;

    @TempDir
    Path work;

    @Test
    void encryptedFullAndIncrementalRestoreIdentically() throws Exception {
        Path image = QemuImages.createQcow2(work.resolve("disk.qcow2"), 32 * MIB);
        byte[] secret = "TOP-SECRET-PAYLOAD-0123456789".repeat(40000).getBytes(StandardCharsets.US_ASCII);
        QemuImages.writeBytes(image, 4 * MIB, secret);
        QemuImages.writeRandom(image, 20 * MIB, (int) MIB, new Random(9));
        Path key = work.resolve("repo.key");
        RepositoryKeys.generateKeyFile(key);
        Path repoDir = work.resolve("repo");
        RepositoryOptions opts = RepositoryOptions.builder().keyFile(key).build();
        try (Repository repo = Repository.init(RepositoryUri.file(repoDir), opts)) {
            SnapshotId full = ImageBackup.full(repo, image, "secret-vm", "vda");
            QemuImages.io(image, "write -P 0x77 8M 64K");
            SnapshotId inc = ImageBackup.incremental(repo, image, repo.load(full), List.of(new Range(8 * MIB, 64 * 1024)));
            Path out = work.resolve("out.qcow2");
            new Restorer(repo).restore(RestoreRequest.of(repo.load(inc), out, RestoreFormat.QCOW2));
            assertThat(QemuImages.identical(out, image)).isTrue();
            assertThat(new Verifier(repo).verify(Optional.empty()).ok()).isTrue();
        }
        // neither chunks nor manifests show the plaintext or the VM's name
        try (Stream<Path> files = Files.walk(repoDir)) {
            for (Path f : files.filter(Files::isRegularFile).filter(f -> !f.endsWith("config")).toList()) {
                String content = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                assertThat(content).doesNotContain("TOP-SECRET").doesNotContain("secret-vm\"");
            }
        }
        assertThat(Files.readString(repoDir.resolve("config"))).contains("AES-256-GCM").doesNotContain(Files.readString(key).strip());
    }

    @Test
    void aKeyFileReadableByOthersIsNamed() throws Exception {
        Path key = work.resolve("k.key");
        RepositoryKeys.generateKeyFile(key);
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        assertThat(RepositoryKeys.exposure(key, "can decrypt the repository")).isEmpty();
        Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r-----"));
        assertThat(RepositoryKeys.exposure(key, "can decrypt the repository")).get().asString().contains(key.toString()).contains("readable by its group")
                .contains("can decrypt the repository; chmod 600").doesNotContain("\n");
        Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(RepositoryKeys.exposure(key, "can decrypt the repository")).get().asString().contains("readable by group and others");
        assertThat(RepositoryKeys.readKeyFile(key)).hasSize(RepositoryKeys.KEY_LENGTH); // a warning, not a refusal
    }
}
