package dev.coldcopy.backup;

import static dev.coldcopy.testing.QemuImages.*;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.coldcopy.process.ProcessResult;
import dev.coldcopy.process.ProcessRunner;
import dev.coldcopy.process.Processes;

/**
 * A coldcopy JVM killed with -9 mid-backup: its watchdog process stops the export and removes the new
 * checkpoint at once, without waiting for the next coldcopy start.
 */
class WatchdogTest {

    static final String PREV = "coldcopy.r1.20261124T100000000Z";

    @TempDir
    Path dir;
    Path images;
    Path top;
    Path work;

    @BeforeEach
    void setUp() throws Exception {
        images = Files.createDirectory(dir.resolve("images"));
        work = dir.resolve("run");
        Path base = createQcow2(images.resolve("base.qcow2"), "4M");
        addBitmap(base, PREV);
        writePattern(base, 1, 0, 64 << 10);
        top = createOverlay(images.resolve("top.qcow2"), base);
        addBitmap(top, PREV);
        addBitmap(top, "libvirt-1");
        writePattern(top, 2, 1 << 20, 64 << 10);
    }

    @ParameterizedTest
    @ValueSource(strings = {"qemu-storage-daemon", "qemu-nbd"})
    void aKilledJvmLeavesNoExportAndNoCheckpoint(String server) throws Exception {
        List<String> before = bitmaps(top);
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), CrashingBackupMain.class.getName(), work.toString(), images.toString(),
                top.toString(), server, PREV, Long.toString(4 << 20), "watchdog").redirectErrorStream(true).start();
        long serverPid;
        String created;
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream()));
            String line;
            StringBuilder seen = new StringBuilder();
            while ((line = out.readLine()) != null && !line.startsWith("READY ")) {
                seen.append(line).append('\n');
            }
            assertThat(line).as("child output: %s", seen).isNotNull();
            serverPid = Long.parseLong(line.split(" ")[1]);
            created = line.split(" ")[2];
            assertThat(bitmaps(top)).contains(created);
            assertThat(openReadWrite(top).succeeded()).as("the export holds the image").isFalse();
        } finally {
            child.destroyForcibly(); // kill -9 mid-backup
            child.waitFor(10, TimeUnit.SECONDS);
        }

        // nobody calls the reaper here: the watchdog does, moments after the JVM died
        assertThat(await(() -> !Processes.isRunning(serverPid), Duration.ofSeconds(20))).as("server stopped").isTrue();
        assertThat(await(() -> bitmaps(top).equals(before), Duration.ofSeconds(20)))
                .as("bitmaps %s, before %s", bitmaps(top), before).isTrue();
        assertThat(await(() -> RunDirectory.at(work).journal().entries().isEmpty(), Duration.ofSeconds(10))).isTrue();
        try (Stream<Path> left = Files.list(RunDirectory.at(work).exports())) {
            assertThat(left).isEmpty();
        }
        assertThat(serversMentioning(work.toString())).isEmpty();
        ProcessResult rw = openReadWrite(top);
        assertThat(rw.succeeded()).as(rw.stderr()).isTrue();
        assertThat(Files.readString(work.resolve(Watchdog.LOG_FILE)))
                .contains("removed uncommitted checkpoint " + created + " from " + top);
    }

    /** qemu-io opens read-write (it takes the image's write lock) and reads a sector. */
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
