package dev.coldcopy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.process.ProcessRunner;
import dev.coldcopy.service.ServiceHarness;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Ctrl-C (SIGINT) or SIGTERM of a restore in progress, in a process of its own: one line, and neither the
 * partial image nor qemu-nbd's socket directory is left behind (a partial image would look like a
 * finished restore); the same restore then succeeds.
 */
class RestoreInterruptTest {
    static final long MIB = 1024 * 1024;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "SIG{0}")
    @ValueSource(strings = {"INT", "TERM"})
    void anInterruptedRestoreLeavesNothing(String signal) throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Path disk = QemuImages.createQcow2(images.resolve("big.qcow2"), 256 * MIB);
        ServiceHarness.writeRandom(disk, 0, (int) (160 * MIB), 3, dir);
        String repo = "file:" + dir.resolve("repo");
        CliRun backup = CliRun.coldcopy("backup", "--repo", repo, "--vm", "big", "--disk", "vda=" + disk, "--allow-root", images.toString(),
                "-Dcoldcopy.home=" + dir.resolve("home"));
        assertThat(backup.exit()).as(backup.err()).isZero();

        Path tmp = Files.createDirectories(dir.resolve("child-tmp"));
        Path output = dir.resolve("restored.qcow2");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-Djava.io.tmpdir=" + tmp, "-cp", System.getProperty("java.class.path"), ColdcopyCommand.class.getName(),
                "restore", "--repo", repo, "--vm", "big", "--disk", "vda", "--output", output.toString()));
        Path err = dir.resolve("err.txt");
        Process child = new ProcessBuilder(cmd).redirectOutput(dir.resolve("out.txt").toFile()).redirectError(err.toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (child.isAlive() && System.nanoTime() < deadline && !(Files.exists(output) && Files.size(output) > 8 * MIB)) {
                Thread.sleep(20);
            }
            assertThat(child.isAlive()).as("restore still running when signalled: " + Files.readString(err)).isTrue();
            ProcessRunner.run(List.of("kill", "-" + signal, Long.toString(child.pid())), Duration.ofSeconds(10));
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            child.destroyForcibly();
        }
        assertThat(child.exitValue()).isNotZero();
        assertThat(Files.readString(err)).contains("interrupted: removing the partial restore " + output);
        assertThat(output).as("no partial image").doesNotExist();
        try (Stream<Path> left = Files.list(tmp)) {
            assertThat(left.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("coldcopy-restore-")))
                    .as("qemu-nbd's socket directory is removed").isEmpty();
        }

        CliRun again = CliRun.coldcopy("restore", "--repo", repo, "--vm", "big", "--disk", "vda", "--output", output.toString());
        assertThat(again.exit()).as(again.err()).isZero();
        assertThat(dev.coldcopy.testing.Tools.run(Duration.ofMinutes(2), List.of("qemu-img", "compare", output.toString(), disk.toString())))
                .contains("Images are identical");
    }
}
