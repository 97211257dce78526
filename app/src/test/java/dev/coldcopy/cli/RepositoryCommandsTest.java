package dev.coldcopy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coldcopy.nbd.testing.QemuImages;
import dev.coldcopy.nbd.testing.Tools;
import dev.coldcopy.service.ServiceHarness;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** backup, snapshots, restore and verify from the command line, on a real image and repository. */
class RepositoryCommandsTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    record Run(int status, String out, String err) {}

    private Run run(String... args) {
        CommandLine cli = ColdcopyCommand.newCommandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int status = cli.execute(args);
        return new Run(status, out.toString(), err.toString());
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

        Run first = run(backup);
        assertThat(first.status()).as(first.err()).isZero();
        assertThat(first.out()).matches("web/vda \\S+ full no previous backup.*\\R");
        Path state1 = QemuImages.convertToRaw(disk, dir.resolve("state1.raw"));
        ServiceHarness.writeRandom(disk, 20 * MIB, 64 * 1024, 8, dir);
        Run second = run(backup);
        assertThat(second.out()).matches("web/vda \\S+ incremental .*\\R");

        Run list = run("snapshots", "--repo", repo, "--json");
        JsonNode snapshots = new ObjectMapper().readTree(list.out());
        assertThat(snapshots).hasSize(2);
        String fullId = first.out().split(" ")[1];

        Run restoreFull = run("restore", "--repo", repo, "--vm", "web", "--disk", "vda", "--snapshot", fullId,
                "--output", dir.resolve("full.raw").toString(), "--format", "raw");
        assertThat(restoreFull.status()).as(restoreFull.err()).isZero();
        assertThat(compare(dir.resolve("full.raw"), "raw", state1)).contains("identical");
        Run restoreLatest = run("restore", "--repo", repo, "--vm", "web", "--disk", "vda", "--output", dir.resolve("latest.qcow2").toString());
        assertThat(restoreLatest.status()).as(restoreLatest.err()).isZero();
        assertThat(compare(dir.resolve("latest.qcow2"), "qcow2", disk)).contains("identical");

        assertThat(run("verify", "--repo", repo).status()).isZero();
        Path chunk = largestChunk(dir.resolve("repo"));
        byte[] bytes = Files.readAllBytes(chunk);
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(chunk, bytes);
        Run verify = run("verify", "--repo", repo);
        assertThat(verify.status()).isEqualTo(1);
        assertThat(verify.err()).contains(chunk.getFileName().toString());
        Run broken = run("restore", "--repo", repo, "--vm", "web", "--disk", "vda", "--output", dir.resolve("broken.qcow2").toString());
        assertThat(broken.status()).isEqualTo(1);
        assertThat(broken.err()).startsWith("coldcopy restore: ").doesNotContain("\tat ");
        assertThat(dir.resolve("broken.qcow2")).doesNotExist();
    }

    @Test
    void clearOneLineReasons() {
        Run missingRepo = run("snapshots", "--repo", "file:" + dir.resolve("none"));
        assertThat(missingRepo.status()).isEqualTo(1);
        assertThat(missingRepo.err().strip()).startsWith("coldcopy snapshots: no repository at").doesNotContain("\n");
        Run badDisk = run("backup", "--repo", "file:" + dir.resolve("r"), "--vm", "web", "--disk", "vda");
        assertThat(badDisk.err()).contains("must be TARGET=IMAGE");
        Run badVm = run("backup", "--repo", "file:" + dir.resolve("r"), "--vm", "a;b", "--disk", "vda=/x.qcow2");
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
