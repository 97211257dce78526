package dev.coldcopy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.testing.Tools;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.testing.S3ProxyServer;
import dev.coldcopy.service.ServiceHarness;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** backup, snapshots, restore and verify from the command line, on a real image and repository. */
class RepositoryCommandsTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    private static CliRun run(String... args) {
        return CliRun.coldcopy(args);
    }

    @Test
    void backupListRestoreVerifyAndDetectDamage() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Path disk = QemuImages.createQcow2(images.resolve("web.qcow2"), 32 * MIB);
        ServiceHarness.writeRandom(disk, 2 * MIB, (int) MIB, 7, dir);
        QemuImages.writePattern(disk, 0x5a, 9 * MIB, 3 * MIB);
        String repo = "file:" + dir.resolve("repo");
        String[] backup = {"backup", "--repo", repo, "--vm", "web", "--disk", "vda=" + disk, "--allow-root", images.toString(),
            "-Dcoldcopy.home=" + dir.resolve("home")};

        CliRun first = run(backup);
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(first.out()).matches("web/vda \\S+ full no previous backup.*\\R\\S+ \\S+ vm .*\\R");
        Path state1 = QemuImages.convertToRaw(disk, dir.resolve("state1.raw"));
        ServiceHarness.writeRandom(disk, 20 * MIB, 64 * 1024, 8, dir);
        CliRun second = run(backup);
        assertThat(second.out()).matches("web/vda \\S+ incremental .*\\R\\S+ \\S+ vm .*\\R");

        CliRun list = run("snapshots", "--repo", repo, "--json");
        JsonNode snapshots = new ObjectMapper().readTree(list.out());
        assertThat(snapshots).hasSize(2);
        String fullId = first.out().split(" ")[1];

        CliRun restoreFull = run("restore", "--repo", repo, "--vm", "web", "--disk", "vda", "--snapshot", fullId,
                "--output", dir.resolve("full.raw").toString(), "--format", "raw", "--sync");
        assertThat(restoreFull.exit()).as(restoreFull.err()).isZero();
        assertThat(compare(dir.resolve("full.raw"), "raw", state1)).contains("identical");
        CliRun restoreLatest = run("restore", "--repo", repo, "--vm", "web", "--disk", "vda", "--output", dir.resolve("latest.qcow2").toString());
        assertThat(restoreLatest.exit()).as(restoreLatest.err()).isZero();
        assertThat(compare(dir.resolve("latest.qcow2"), "qcow2", disk)).contains("identical");

        assertThat(run("verify", "--repo", repo).exit()).isZero();
        assertOwnerOnly(dir.resolve("repo"));
        Path chunk = largestChunk(dir.resolve("repo"));
        byte[] bytes = Files.readAllBytes(chunk);
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(chunk, bytes);
        CliRun verify = run("verify", "--repo", repo);
        assertThat(verify.exit()).isEqualTo(1);
        assertThat(verify.err()).contains(chunk.getFileName().toString()).contains("used by " + fullId)
                .contains("moved to quarantine/chunks/").contains("broken snapshots").contains(fullId);
        assertThat(chunk).as("the damaged chunk is out of the way").doesNotExist();
        try (Stream<Path> q = Files.walk(dir.resolve("repo/quarantine"))) {
            assertThat(q.filter(Files::isRegularFile).map(p -> p.getFileName().toString()))
                    .as("kept for inspection").singleElement().asString().startsWith(chunk.getFileName() + ".");
        }
        CliRun broken = run("restore", "--repo", repo, "--vm", "web", "--disk", "vda", "--output", dir.resolve("broken.qcow2").toString());
        assertThat(broken.exit()).isEqualTo(1);
        assertThat(broken.err()).startsWith("coldcopy restore: ").doesNotContain("\tat ");
        assertThat(dir.resolve("broken.qcow2")).doesNotExist();

        // the next backup cannot build on a snapshot with a quarantined chunk: full, and it stores the chunk again
        CliRun repair = run(backup);
        assertThat(repair.exit()).as(repair.err()).isZero();
        assertThat(repair.out()).matches("web/vda \\S+ full .*\\R\\S+ \\S+ vm .*\\R");
        assertThat(chunk).exists();
        CliRun verified = run("verify", "--repo", repo);
        assertThat(verified.exit()).as(verified.err()).isZero();
        assertThat(verified.out()).contains("3 snapshot(s)").contains("all good");
        CliRun restoreOld = run("restore", "--repo", repo, "--vm", "web", "--disk", "vda", "--snapshot", fullId,
                "--output", dir.resolve("repaired.raw").toString(), "--format", "raw");
        assertThat(restoreOld.exit()).as(restoreOld.err()).isZero();
        assertThat(compare(dir.resolve("repaired.raw"), "raw", state1)).contains("identical");
        assertOwnerOnly(dir.resolve("repo"));
    }

    /** under this JVM's umask (022 as a rule) every repository file is 0600 and every directory 0700 */
    private static void assertOwnerOnly(Path repo) throws IOException {
        String umask = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("Umask:"))
                .findFirst().orElseThrow().substring(6).strip();
        org.junit.jupiter.api.Assumptions.assumeTrue((Integer.parseInt(umask, 8) & 044) == 0,
                "the umask " + umask + " hides group/other bits anyway");
        try (Stream<Path> files = Files.walk(repo)) {
            for (Path p : files.toList()) { // the repository directory too: coldcopy created it
                String mode = java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
                assertThat(mode).as(p.toString()).isEqualTo(Files.isDirectory(p) ? "rwx------" : "rw-------");
            }
        }
    }

    @Test
    void s3DamagedChunkIsQuarantinedAndTheNextBackupRepairsIt() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Path disk = QemuImages.createQcow2(images.resolve("db.qcow2"), 16 * MIB);
        ServiceHarness.writeRandom(disk, MIB, (int) (2 * MIB), 5, dir);
        try (S3ProxyServer s3 = S3ProxyServer.start(Files.createDirectories(dir.resolve("s3")))) {
            s3.createBucket("backups");
            String repo = "s3://backups/cli?endpoint=" + s3.endpoint() + "&region=" + S3ProxyServer.REGION
                    + "&accessKey=" + S3ProxyServer.ACCESS_KEY + "&secretKey=" + S3ProxyServer.SECRET_KEY;
            String[] backup = {"backup", "--repo", repo, "--vm", "db", "--disk", "vda=" + disk, "--allow-root", images.toString(),
                "-Dcoldcopy.home=" + dir.resolve("home")};
            CliRun first = run(backup);
            assertThat(first.exit()).as(first.err()).isZero();
            String firstId = first.out().split(" ")[1];
            Path state1 = QemuImages.convertToRaw(disk, dir.resolve("state1.raw"));

            // flip one byte of the largest chunk in the bucket (a real PutObject over it)
            String damaged;
            try (Repository r = Repository.open(RepositoryUri.parse(repo), RepositoryOptions.defaults())) {
                damaged = r.backend().list("chunks/").stream()
                        .max(java.util.Comparator.comparingInt(k -> uncheckedLength(r, k))).orElseThrow();
                byte[] bytes = r.backend().get(damaged);
                bytes[bytes.length / 2] ^= 0x01;
                r.backend().put(damaged, bytes);
            }
            CliRun verify = run("verify", "--repo", repo);
            assertThat(verify.exit()).as(verify.out()).isEqualTo(1);
            assertThat(verify.err()).contains(damaged.substring(damaged.lastIndexOf('/') + 1)).contains("used by " + firstId)
                    .contains("moved to quarantine/" + damaged + ".").contains("broken snapshots");

            CliRun repair = run(backup);
            assertThat(repair.exit()).as(repair.err()).isZero();
            assertThat(repair.out()).matches("db/vda \\S+ full .*\\R\\S+ \\S+ vm .*\\R");
            CliRun verified = run("verify", "--repo", repo);
            assertThat(verified.exit()).as(verified.err()).isZero();
            CliRun restoreOld = run("restore", "--repo", repo, "--vm", "db", "--disk", "vda", "--snapshot", firstId,
                    "--output", dir.resolve("repaired.raw").toString(), "--format", "raw");
            assertThat(restoreOld.exit()).as(restoreOld.err()).isZero();
            assertThat(compare(dir.resolve("repaired.raw"), "raw", state1)).contains("identical");
        }
    }

    private static int uncheckedLength(Repository r, String key) {
        try {
            return r.backend().get(key).length;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void clearOneLineReasons() {
        CliRun missingRepo = run("snapshots", "--repo", "file:" + dir.resolve("none"));
        assertThat(missingRepo.exit()).isEqualTo(1);
        assertThat(missingRepo.err().strip()).startsWith("coldcopy snapshots: no repository at").doesNotContain("\n");
        CliRun badDisk = run("backup", "--repo", "file:" + dir.resolve("r"), "--vm", "web", "--disk", "vda");
        assertThat(badDisk.err()).contains("must be TARGET=IMAGE");
        CliRun badVm = run("backup", "--repo", "file:" + dir.resolve("r"), "--vm", "a;b", "--disk", "vda=/x.qcow2");
        assertThat(badVm.err()).contains("refused VM name 'a;b'");
    }

    private static String compare(Path restored, String format, Path expected) {
        return Tools.run(Duration.ofMinutes(1), List.of("qemu-img", "compare", "-f", format, restored.toString(), expected.toString()));
    }

    private static Path largestChunk(Path repo) throws IOException {
        try (Stream<Path> files = Files.walk(repo)) {
            return files.filter(Files::isRegularFile)
                    .filter(p -> p.toString().contains("chunk"))
                    .max((a, b) -> Long.compare(a.toFile().length(), b.toFile().length()))
                    .orElseThrow();
        }
    }
}
