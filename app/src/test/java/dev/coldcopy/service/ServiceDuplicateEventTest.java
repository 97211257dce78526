package dev.coldcopy.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.testing.QemuImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The same event (same id) delivered twice through the spool gives one backup. */
class ServiceDuplicateEventTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void sameEventTwiceGivesOneBackup() throws Exception {
        try (ServiceHarness service = new ServiceHarness(dir.resolve("home"))) {
            Path disk = QemuImages.createQcow2(service.images.resolve("web.qcow2"), 16L << 20);
            QemuImages.writePattern(disk, 0x22, 2 << 20, 1 << 20);
            service.start();
            String event = "{\"id\":\"evt-1\",\"event\":\"stopped\",\"vm\":\"web\",\"disks\":[{\"target\":\"vda\",\"image\":\"" + disk + "\"}]}";
            service.dropEvent("a", event);
            service.awaitResult(1, WAIT);
            service.dropEvent("b", event);
            awaitProcessed(service.spool(), 2);
            assertThat(service.results()).hasSize(1);
            assertThat(service.deadLetters()).isEmpty();
        }
    }

    /** Waits until {@code count} spool files were moved to done/ (the duplicate is consumed, not backed up). */
    private static void awaitProcessed(Path spool, int count) throws Exception {
        Instant end = Instant.now().plus(WAIT);
        while (Instant.now().isBefore(end)) {
            if (Files.isDirectory(spool.resolve("done"))) {
                try (Stream<Path> done = Files.walk(spool.resolve("done"))) {
                    if (done.filter(Files::isRegularFile).count() >= count) {
                        return;
                    }
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the spool did not consume " + count + " events within " + WAIT);
    }
}
