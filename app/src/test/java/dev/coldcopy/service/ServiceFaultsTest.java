package dev.coldcopy.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.testing.S3ProxyServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults in the middle of a backup, through the whole service: the export process killed, the S3
 * server gone. Afterwards: either a committed snapshot that restores identical, or no manifest, a dead
 * letter and the checkpoint where it was; never a leaked process, socket directory or journal entry;
 * and the next event backs up and restores identical.
 */
class ServiceFaultsTest {
    private static final long MIB = 1 << 20;
    private static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir
    Path dir;
    ServiceHarness service;
    S3ProxyServer s3;

    @AfterEach
    void stop() {
        if (service != null) {
            service.close();
        }
        if (s3 != null) {
            s3.close();
        }
    }

    /** Slow reading (one 64 KiB request at a time) so that a fault lands mid-backup. */
    private ServiceHarness slowService() throws IOException {
        return new ServiceHarness(dir.resolve("home"))
                .set("coldcopy.nbd.max-in-flight", "1")
                .set("coldcopy.nbd.chunk-size", "65536")
                .set("coldcopy.retry.delay-ms", "300")
                .set("coldcopy.retry.backoff", "1.5");
    }

    @Test
    @Timeout(180)
    void exportKilledMidBackup() throws Exception {
        service = slowService().set("coldcopy.retry.max", "1");
        Path disk = QemuImages.createQcow2(service.images.resolve("web.qcow2"), 64 * MIB);
        ServiceHarness.writeRandom(disk, 0, (int) MIB, 1, dir);
        service.start();
        JsonNode first = backUp("first", disk, 1);

        ServiceHarness.writeRandom(disk, 8 * MIB, (int) (40 * MIB), 2, dir);
        List<String> bitmapsBefore = bitmaps(disk);
        Path expected = ServiceHarness.snapshotOfDisk(disk, dir.resolve("before-fault.raw"));
        service.dropEvent("faulted", ServiceHarness.event("web", "vda", disk));
        // the first attempt's export and, if it comes, the retry's: both killed once they serve
        int killed = killExports(2, Duration.ofSeconds(60));
        assertThat(killed).as("export processes killed").isGreaterThanOrEqualTo(1);
        JsonNode outcome = awaitOutcome(2, 1);

        assertNothingLeft();
        try (Repository repository = service.openRepository()) {
            if (outcome.has("outcome") && "ok".equals(outcome.get("outcome").asText())) {
                // a retry got through: its snapshot must be whole
                ServiceHarness.assertRestoresTo(repository, repository.load(SnapshotId.parse(outcome.get("snapshot").asText())),
                        expected, dir.resolve("restored-retry.qcow2"));
            } else {
                assertThat(outcome.get("reason").asText()).as("dead letter").isNotBlank();
                assertThat(repository.list(Optional.of("web"))).as("no manifest for the failed backup").hasSize(1);
                assertThat(bitmaps(disk)).as("checkpoint not advanced").isEqualTo(bitmapsBefore);
            }
        }

        ServiceHarness.writeRandom(disk, 60 * MIB, (int) MIB, 3, dir);
        JsonNode next = backUp("next", disk, service.results().size() + 1);
        assertThat(next.get("kind").asText()).isEqualTo("incremental");
        assertRestores(next, disk, "next");
        assertRestores(first, dir.resolve("first.raw"), "first");
        assertNothingLeft();
    }

    @Test
    @Timeout(180)
    void s3StoppedMidBackup() throws Exception {
        service = slowService().set("coldcopy.retry.max", "2");
        s3 = S3RepositoryRoundTripTest.startS3(service, dir);
        Path disk = QemuImages.createQcow2(service.images.resolve("web.qcow2"), 48 * MIB);
        ServiceHarness.writeRandom(disk, 0, (int) MIB, 1, dir);
        service.start();
        JsonNode first = backUp("first", disk, 1);

        ServiceHarness.writeRandom(disk, 4 * MIB, (int) (32 * MIB), 2, dir);
        List<String> bitmapsBefore = bitmaps(disk);
        service.dropEvent("faulted", ServiceHarness.event("web", "vda", disk));
        awaitExportServing(Duration.ofSeconds(60));
        Thread.sleep(300);
        s3.stop();
        JsonNode dead = service.awaitDeadLetter(1, WAIT);
        assertThat(dead.get("reason").asText()).as(dead.toString()).isNotBlank();
        assertThat(service.results().stream().filter(r -> "ok".equals(r.path("outcome").asText()))).hasSize(1);
        assertThat(bitmaps(disk)).as("checkpoint not advanced").isEqualTo(bitmapsBefore);
        assertNothingLeft();

        s3.start();
        try (Repository repository = service.openRepository()) {
            assertThat(repository.list(Optional.of("web"))).as("no manifest for the failed backup").hasSize(1);
        }
        JsonNode next = backUp("next", disk, service.results().size() + 1);
        assertThat(next.get("kind").asText()).isEqualTo("incremental");
        assertRestores(next, disk, "next");
        assertRestores(first, dir.resolve("first.raw"), "first");
        assertNothingLeft();
    }

    /** Drops an event, waits for its result, checks it is ok; keeps the disk's state as {name}.raw. */
    private JsonNode backUp(String name, Path disk, int resultCount) throws Exception {
        service.dropEvent(name, ServiceHarness.event("web", "vda", disk));
        JsonNode result = service.awaitResult(resultCount, WAIT);
        assertThat(result.get("outcome").asText()).as(result.toString()).isEqualTo("ok");
        ServiceHarness.snapshotOfDisk(disk, dir.resolve(name + ".raw"));
        return result;
    }

    private void assertRestores(JsonNode result, Path expected, String name) throws Exception {
        Path raw = expected.toString().endsWith(".raw") ? expected : ServiceHarness.snapshotOfDisk(expected, dir.resolve(name + "-now.raw"));
        try (Repository repository = service.openRepository()) {
            ServiceHarness.assertRestoresTo(repository, repository.load(SnapshotId.parse(result.get("snapshot").asText())),
                    raw, dir.resolve("restored-" + name + ".qcow2"));
        }
    }

    /** The faulted event's end: a dead letter, or an ok result after a retry. */
    private JsonNode awaitOutcome(int resultCount, int deadLetterCount) throws Exception {
        Instant end = Instant.now().plus(WAIT);
        while (Instant.now().isBefore(end)) {
            List<JsonNode> dead = service.deadLetters();
            if (dead.size() >= deadLetterCount) {
                return dead.get(dead.size() - 1);
            }
            List<JsonNode> results = service.results();
            if (results.size() >= resultCount && "ok".equals(results.get(results.size() - 1).path("outcome").asText())) {
                return results.get(results.size() - 1);
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the faulted event neither failed nor succeeded: " + service.results());
    }

    /** kill -9 of each new export server (found by its pid file) once it serves; returns how many. */
    private int killExports(int max, Duration timeout) throws Exception {
        Set<Long> killed = new HashSet<>();
        Instant end = Instant.now().plus(timeout);
        while (killed.size() < max && Instant.now().isBefore(end)) {
            for (Path pidFile : pidFiles()) {
                long pid;
                try {
                    pid = Long.parseLong(Files.readString(pidFile).strip());
                } catch (IOException | NumberFormatException e) {
                    continue; // being written or already gone
                }
                if (killed.contains(pid)) {
                    continue;
                }
                Thread.sleep(400); // let the reading start
                Optional<ProcessHandle> server = ProcessHandle.of(pid);
                if (server.isPresent() && server.get().isAlive()) {
                    server.get().destroyForcibly();
                }
                killed.add(pid);
            }
            if (!service.deadLetters().isEmpty() || service.results().size() >= 2) {
                break; // the event is over
            }
            Thread.sleep(20);
        }
        return killed.size();
    }

    private void awaitExportServing(Duration timeout) throws Exception {
        Instant end = Instant.now().plus(timeout);
        while (pidFiles().isEmpty()) {
            if (Instant.now().isAfter(end)) {
                throw new AssertionError("no export started within " + timeout);
            }
            Thread.sleep(20);
        }
    }

    private List<Path> pidFiles() throws IOException {
        return service.exportDirectories().stream().map(d -> d.resolve("server.pid")).filter(Files::isRegularFile).toList();
    }

    /** No qemu child process, export directory (sockets, overlay) or uncommitted checkpoint in the journal. */
    private void assertNothingLeft() throws Exception {
        assertThat(ServiceHarness.awaitNoQemuChildren(Duration.ofSeconds(10))).as("qemu processes left").isEmpty();
        assertThat(service.exportDirectories()).as("export directories left").isEmpty();
        try (Stream<Path> journal = Files.list(service.home.resolve("run").resolve("journal"))) {
            assertThat(journal.toList()).as("checkpoint journal entries left").isEmpty();
        }
    }

    private static List<String> bitmaps(Path image) {
        return dev.coldcopy.testing.QemuImages.bitmaps(image);
    }
}
