package dev.coldcopy.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.coldcopy.repository.backend.SftpBackend;
import dev.coldcopy.repository.testing.ImageBackup;
import dev.coldcopy.repository.testing.OpenSshServer;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.repository.testing.StartedCamel;
import dev.coldcopy.restore.RestoreFormat;
import dev.coldcopy.restore.RestoreRequest;
import dev.coldcopy.restore.Restorer;
import dev.coldcopy.repository.verify.Verifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A repository on OpenSSH's sshd, where the login directory is the user's home, not {@code /}:
 * {@code sftp://user@host:port/abs/path} means the absolute path for every write, read, list and
 * delete; objects are fsynced (fsync@openssh.com) and readable by their owner only.
 */
class OpenSshSftpTest {
    private static final long MIB = 1024 * 1024;

    @TempDir
    Path work;
    @RegisterExtension
    final StartedCamel camel = new StartedCamel();
    private OpenSshServer sshd;
    /** where a write relative to the login directory would have gone: removed afterwards */
    private Path underHome;

    @BeforeEach
    void startSshd() throws Exception {
        if (!OpenSshServer.available() && "true".equals(System.getenv("CI"))) {
            org.junit.jupiter.api.Assertions.fail("OpenSSH sshd is missing in CI: bin/setup --test installs openssh-server");
        }
        assumeTrue(OpenSshServer.available(), "OpenSSH sshd (Debian openssh-server) is not installed: bin/setup --test");
        assumeTrue(!OpenSshServer.loginDirectory().equals(Path.of("/")), "the test user's home is /");
        sshd = OpenSshServer.start(work);
    }

    @AfterEach
    void stopSshd() throws Exception {
        if (sshd != null) {
            sshd.close();
        }
        Path strayWork = OpenSshServer.loginDirectory().resolve(work.getRoot().relativize(work));
        if (underHome != null && Files.exists(strayWork)) {
            deleteTree(strayWork);
            try {
                Files.deleteIfExists(strayWork.getParent()); // only when the stray write made it
            } catch (java.nio.file.DirectoryNotEmptyException e) {
                // it holds the user's own files
            }
        }
    }

    @Test
    void absolutePathForEveryOperationDurableAndPrivate() throws Exception {
        Path repoDir = work.resolve("srv/repo");
        underHome = OpenSshServer.loginDirectory().resolve(work.getRoot().relativize(repoDir));
        Path image = QemuImages.createQcow2(work.resolve("disk.qcow2"), 16 * MIB);
        Random r = new Random(7);
        QemuImages.writeRandom(image, 0, (int) (3 * MIB), r);
        QemuImages.writeText(image, 8 * MIB, (int) (3 * MIB), r);
        RepositoryUri uri = sshd.repositoryUri(repoDir);
        RepositoryOptions options = sshd.options(RepositoryOptions.builder().camelContext(camel.context()).parallelism(2)).build();
        SnapshotId id;
        try (Repository repo = Repository.init(uri, options)) {
            id = ImageBackup.full(repo, image, "vm", "vda");
            // every object written (and still there: a backup's lock object comes and goes) was fsynced on
            // the server: OpenSSH answered an fsync@openssh.com for each with OK
            SftpBackend backend = (SftpBackend) repo.backend();
            int objects = listFiles(repoDir).size();
            assertThat(objects).isGreaterThan(3);
            assertThat(backend.syncCount()).as("objects fsynced").isGreaterThanOrEqualTo(objects).isLessThanOrEqualTo(backend.putCount());
        }
        // the objects are physically at the absolute path, nothing went below the login directory
        assertThat(repoDir.resolve("config")).isRegularFile();
        assertThat(Files.list(repoDir.resolve("snapshots/vm/vda")).count()).isEqualTo(1);
        assertThat(listFiles(repoDir.resolve("chunks"))).isNotEmpty();
        assertThat(underHome).as("nothing written relative to the login directory").doesNotExist();

        try (Repository repo = Repository.open(uri, options)) {
            assertThat(repo.snapshotIds()).containsExactly(id);
            assertThat(repo.list(Optional.of("vm"))).hasSize(1);
            assertThat(new Verifier(repo).verify(Optional.empty()).ok()).isTrue();
            Path out = work.resolve("restored.raw");
            new Restorer(repo).restore(RestoreRequest.of(repo.load(id), out, RestoreFormat.RAW));
            assertThat(QemuImages.identical(out, image)).as("restored identical").isTrue();
            // a second full finds every chunk there (same path for exists as for writes): nothing new
            SnapshotId again = ImageBackup.full(repo, image, "vm", "vda");
            assertThat(repo.load(again).statistics().chunksNew()).isZero();
            repo.deleteSnapshot(again);
            assertThat(repo.snapshotIds()).containsExactly(id);
        }

        // owner only, whatever the server's umask
        for (Path p : walk(repoDir)) {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(p);
            assertThat(mode).as(p + " is private").noneMatch(m -> m.name().startsWith("GROUP") || m.name().startsWith("OTHERS"));
        }
    }

    private static List<Path> listFiles(Path dir) throws Exception {
        List<Path> out = new ArrayList<>();
        for (Path p : walk(dir)) {
            if (Files.isRegularFile(p)) {
                out.add(p);
            }
        }
        return out;
    }

    private static List<Path> walk(Path dir) throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> !p.equals(dir)).toList();
        }
    }

    /** deletes what a write relative to the home directory left (this test's own directory name) */
    private static void deleteTree(Path top) throws Exception {
        try (Stream<Path> s = Files.walk(top)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
