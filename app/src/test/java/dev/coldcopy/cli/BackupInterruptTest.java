package dev.coldcopy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.testing.Tools;
import dev.coldcopy.process.ProcessResult;
import dev.coldcopy.process.ProcessRunner;
import dev.coldcopy.process.Processes;
import dev.coldcopy.service.ServiceHarness;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A one-shot {@code backup} in its own JVM, interrupted mid-read: by Ctrl-C's SIGINT, by SIGTERM, and by
 * SIGKILL (the watchdog's case). Afterwards the VM could start (the image opens read-write), the image has
 * exactly the bitmaps it had before, no snapshot was written, and the next backup works and restores.
 */
class BackupInterruptTest {
    private static final long MIB = 1 << 20;
    private static final String INTERRUPTED = "interrupted: stopping the export and rolling back";

    @TempDir
    Path dir;
    Path images;
    Path disk;
    Path home;
    String repo;

    @BeforeEach
    void firstBackup() throws Exception {
        images = Files.createDirectories(dir.resolve("images"));
        disk = QemuImages.createQcow2(images.resolve("web.qcow2"), 96 * MIB);
        ServiceHarness.writeRandom(disk, 0, (int) (4 * MIB), 1, dir);
        home = dir.resolve("home");
        repo = "file:" + dir.resolve("repo");
        CliRun first = CliRun.coldcopy(backupArgs().toArray(String[]::new));
        assertThat(first.exit()).as(first.err()).isZero();
        // the next (incremental) backup reads 48 MiB of random data
        ServiceHarness.writeRandom(disk, 0, (int) (48 * MIB), 2, dir);
    }

    /** zstd's slowest level (fixed when the repository is created): 48 MiB take seconds, long enough to be caught mid-read. */
    List<String> backupArgs() {
        return new ArrayList<>(List.of("backup", "--repo", repo, "--vm", "web", "--disk", "vda=" + disk,
                "--allow-root", images.toString(), "-Dcoldcopy.home=" + home,
                "-Dcoldcopy.repository.compression-level=19", "-Dcoldcopy.repository.fsync=false"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"INT", "TERM", "KILL"})
    void anInterruptedBackupLeavesTheDiskAsItWas(String signal) throws Exception {
        List<String> before = bitmaps(disk);
        assertThat(before).hasSize(1);
        Path out = dir.resolve("child.out");
        Path err = dir.resolve("child.err");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), ColdcopyCommand.class.getName()));
        cmd.addAll(backupArgs());
        Process child = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        long serverPid;
        try {
            Optional<Long> server = Optional.empty();
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (server.isEmpty() && child.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(50);
                server = exportServer();
            }
            assertThat(server).as("export of the child; its stderr: %s", Files.readString(err)).isPresent();
            serverPid = server.get();
            Thread.sleep(300); // into reading the disk
            assertThat(child.isAlive()).as("still backing up").isTrue();
            assertThat(openReadWrite(disk).succeeded()).as("the export holds the image").isFalse();

            long signalled = System.nanoTime();
            if (signal.equals("KILL")) {
                child.destroyForcibly();
            } else {
                ProcessRunner.run(List.of("kill", "-" + signal, Long.toString(child.pid())), Duration.ofSeconds(10));
            }
            assertThat(child.waitFor(15, TimeUnit.SECONDS)).as("exited in time").isTrue();
            long tookMs = (System.nanoTime() - signalled) / 1_000_000;
            assertThat(child.exitValue()).isNotZero();
            if (!signal.equals("KILL")) {
                String stderr = Files.readString(err);
                assertThat(stderr.lines().filter(INTERRUPTED::equals)).as(stderr).hasSize(1);
                assertThat(tookMs).as("ms from signal to exit").isLessThan(10_000);
                // rolled back before the JVM went: nothing left for anyone else to do
                assertThat(Processes.isRunning(serverPid)).isFalse();
                assertThat(bitmaps(disk)).isEqualTo(before);
            }
        } finally {
            child.destroyForcibly();
            child.waitFor(10, TimeUnit.SECONDS);
        }

        // after a SIGKILL the watchdog the child started stops the server and removes the checkpoint
        assertThat(await(() -> !Processes.isRunning(serverPid), Duration.ofSeconds(20))).as("server stopped").isTrue();
        assertThat(await(() -> bitmaps(disk).equals(before), Duration.ofSeconds(20)))
                .as("bitmaps %s, before %s", bitmaps(disk), before).isTrue();
        // (the watchdog's qemu-img may still be closing the image for a moment after the bitmap is gone)
        assertThat(await(() -> openReadWrite(disk).succeeded(), Duration.ofSeconds(10))).as(openReadWrite(disk).stderr()).isTrue();
        if (signal.equals("KILL")) {
            assertThat(Files.readString(home.resolve("run/watchdog.log"))).contains("removed uncommitted checkpoint coldcopy.")
                    .contains("stopped leftover qemu-storage-daemon pid " + serverPid);
        }
        try (Stream<Path> exports = Files.list(home.resolve("run/exports"))) {
            assertThat(exports).isEmpty();
        }
        CliRun list = CliRun.coldcopy("snapshots", "--repo", repo, "--json");
        assertThat(new ObjectMapper().readTree(list.out())).as("no manifest written").hasSize(1);

        CliRun next = CliRun.coldcopy(backupArgs().toArray(String[]::new));
        assertThat(next.exit()).as(next.err()).isZero();
        assertThat(next.out()).matches("web/vda \\S+ incremental .*\\R\\S+ \\S+ vm .*\\R");
        Path restored = dir.resolve("restored.qcow2");
        CliRun restore = CliRun.coldcopy("restore", "--repo", repo, "--vm", "web", "--disk", "vda", "--output", restored.toString());
        assertThat(restore.exit()).as(restore.err()).isZero();
        assertThat(Tools.run(Duration.ofMinutes(2), List.of("qemu-img", "compare", restored.toString(), disk.toString())))
                .contains("Images are identical");
    }

    /** The pid of a qemu-storage-daemon serving an export of the child's work directory. */
    private Optional<Long> exportServer() throws Exception {
        Path exports = home.resolve("run/exports");
        if (!Files.isDirectory(exports)) {
            return Optional.empty();
        }
        try (Stream<Path> dirs = Files.list(exports)) {
            for (Path d : dirs.toList()) {
                Optional<Long> pid = Processes.readPidFile(d.resolve("server.pid"));
                if (pid.isPresent() && Processes.isOurs(pid.get(), "qemu-storage-daemon", d.toString())
                        && Files.exists(d.resolve("nbd.sock"))) {
                    return pid;
                }
            }
        }
        return Optional.empty();
    }

    static List<String> bitmaps(Path image) {
        ProcessResult info = ProcessRunner.run(List.of("qemu-img", "info", "-U", "--output=json", image.toString()),
                Duration.ofSeconds(30));
        try {
            JsonNode root = new ObjectMapper().readTree(info.stdout());
            List<String> names = new ArrayList<>();
            root.path("format-specific").path("data").path("bitmaps").forEach(b -> names.add(b.path("name").asText()));
            return names.stream().sorted().toList();
        } catch (Exception e) {
            throw new IllegalStateException(info.stderr(), e);
        }
    }

    /** qemu-io opens the image read-write (taking its write lock), as a starting VM would. */
    static ProcessResult openReadWrite(Path image) {
        return ProcessRunner.run(List.of("qemu-io", "-f", "qcow2", "-c", "read 0 512", image.toString()), Duration.ofSeconds(30));
    }

    static boolean await(BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(100);
        }
        return true;
    }
}
