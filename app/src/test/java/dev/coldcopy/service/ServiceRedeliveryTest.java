package dev.coldcopy.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.SnapshotSummary;
import dev.coldcopy.repository.lock.RepositoryLock;
import dev.coldcopy.repository.vm.VmBackup;
import dev.coldcopy.repository.verify.Verifier;
import dev.coldcopy.testing.HeldImage;
import dev.coldcopy.testing.QemuImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * At-least-once delivery through the real service: an event delivered again after it was (wholly or partly)
 * backed up is answered with the snapshots it already made, whichever node gets it, and each event yields one
 * snapshot per disk and one VM backup. A disk whose lease another node holds waits, then fails naming the
 * holder. Everything is checked in the repository and restored.
 */
class ServiceRedeliveryTest {
    private static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    private static String event(String id, Path vda, Path vdb) {
        return "{\"id\":\"" + id + "\",\"event\":\"stopped\",\"vm\":\"web\",\"disks\":[{\"target\":\"vda\",\"image\":\"" + vda
                + "\"},{\"target\":\"vdb\",\"image\":\"" + vdb + "\"}]}";
    }

    /** A node of a fleet: its own home (spool, state, duplicate filter), the one shared repository and images. */
    private ServiceHarness node(String name, Path repository, Path images) throws Exception {
        return new ServiceHarness(dir.resolve(name))
                .repository(RepositoryUri.file(repository), RepositoryOptions.defaults())
                .set("coldcopy.allowed-roots", images.toString());
    }

    @Test
    void anEventBackedUpByANodeThatDiedIsAnsweredByTheNextWithWhatItMade() throws Exception {
        Path repository = dir.resolve("repository");
        Path images = Files.createDirectories(dir.resolve("images"));
        Path vda = QemuImages.createQcow2(images.resolve("web-vda.qcow2"), 16L << 20);
        Path vdb = QemuImages.createQcow2(images.resolve("web-vdb.qcow2"), 16L << 20);
        QemuImages.writePattern(vda, 0x11, 1 << 20, 2 << 20);
        QemuImages.writePattern(vdb, 0x22, 3 << 20, 1 << 20);
        String event = event("evt-1", vda, vdb);

        Map<String, String> madeByA;
        String vmBackupOfA;
        try (ServiceHarness a = node("a", repository, images).start()) {
            a.dropEvent("e1", event);
            a.awaitResult(2, WAIT);
            madeByA = snapshotsByDisk(a.results());
            vmBackupOfA = awaitVmResult(a, 1).path("vmBackup").asText();
        } // node a is gone; its result may never have reached anyone: the event is delivered again, to node b
        List<String> bitmapsA = QemuImages.bitmaps(vda);
        List<String> bitmapsB = QemuImages.bitmaps(vdb);
        Path atFirst = ServiceHarness.snapshotOfDisk(vda, dir.resolve("vda-1.raw"));

        try (ServiceHarness b = node("b", repository, images).start()) {
            b.dropEvent("e1", event);
            b.awaitResult(2, WAIT);
            for (JsonNode r : b.results()) {
                String disk = r.path("disk").asText();
                assertThat(r.path("outcome").asText()).isEqualTo("ok");
                assertThat(r.path("snapshot").asText()).as(disk + ": node a's snapshot").isEqualTo(madeByA.get(disk));
                assertThat(r.path("kind").asText()).isEqualTo("full");
                assertThat(r.path("reason").asText()).isEqualTo("already backed up by this event: " + madeByA.get(disk));
                assertThat(r.path("bytesRead").asLong()).as("nothing exported or read").isZero();
            }
            JsonNode vm = awaitVmResult(b, 1);
            assertThat(vm.path("outcome").asText()).isEqualTo("ok");
            assertThat(vm.path("vmBackup").asText()).as("node a's VM backup, not a second one").isEqualTo(vmBackupOfA);
            assertThat(QemuImages.bitmaps(vda)).as("checkpoints left as they were").isEqualTo(bitmapsA);
            assertThat(QemuImages.bitmaps(vdb)).isEqualTo(bitmapsB);
            assertThat(ServiceHarness.awaitNoQemuChildren(Duration.ofSeconds(10))).isEmpty();
            try (Repository repo = b.openRepository()) {
                assertThat(repo.list(Optional.of("web"))).as("one snapshot per disk for the one event").hasSize(2)
                        .allSatisfy(s -> assertThat(s.eventId()).isEqualTo("evt-1"));
                assertThat(repo.vmBackups().list(Optional.of("web"))).singleElement()
                        .satisfies(v -> assertThat(v.eventId()).isEqualTo("evt-1"));
            }

            // the next event of the VM is an ordinary incremental from node a's checkpoint
            QemuImages.writePattern(vda, 0x33, 5 << 20, 64 << 10);
            b.dropEvent("e2", event("evt-2", vda, vdb));
            b.awaitResult(4, WAIT);
            JsonNode next = b.results().stream().filter(r -> r.path("eventId").asText().equals("evt-2")
                    && r.path("disk").asText().equals("vda")).findFirst().orElseThrow();
            assertThat(next.path("kind").asText()).isEqualTo("incremental");
            assertThat(next.path("bytesRead").asLong()).isLessThanOrEqualTo(1 << 20);
            awaitVmResult(b, 2);
            try (Repository repo = b.openRepository()) {
                ServiceHarness.assertRestoresTo(repo, repo.load(SnapshotId.parse(madeByA.get("vda"))), atFirst, dir.resolve("r1.qcow2"));
                ServiceHarness.assertRestoresTo(repo, repo.load(SnapshotId.parse(next.path("snapshot").asText())),
                        ServiceHarness.snapshotOfDisk(vda, dir.resolve("vda-2.raw")), dir.resolve("r2.qcow2"));
                assertThat(new Verifier(repo).verify(Optional.empty()).problems()).isEmpty();
            }
        }
    }

    @Test
    void anEventThatCommittedOneDiskBeforeItFailedBacksUpOnlyTheOtherWhenDeliveredAgain() throws Exception {
        Path repository = dir.resolve("repository");
        Path images = Files.createDirectories(dir.resolve("images"));
        Path vda = QemuImages.createQcow2(images.resolve("web-vda.qcow2"), 16L << 20);
        Path vdb = QemuImages.createQcow2(images.resolve("web-vdb.qcow2"), 16L << 20);
        QemuImages.writePattern(vda, 0x44, 0, 1 << 20);
        QemuImages.writePattern(vdb, 0x55, 0, 1 << 20);
        String event = event("evt-7", vda, vdb);
        try (ServiceHarness node = node("a", repository, images).start()) {
            String vdaSnapshot;
            try (HeldImage running = QemuImages.holdOpen(vdb)) {
                node.dropEvent("first", event);
                node.awaitResult(2, WAIT);
                Map<String, String> outcomes = node.results().stream()
                        .collect(Collectors.toMap(r -> r.path("disk").asText(), r -> r.path("outcome").asText()));
                assertThat(outcomes).containsEntry("vda", "ok").containsEntry("vdb", "failed");
                vdaSnapshot = snapshotsByDisk(node.results()).get("vda");
                assertThat(awaitVmResult(node, 1).path("outcome").asText()).isEqualTo("failed");
            }
            List<String> vdaBitmaps = QemuImages.bitmaps(vda);

            // the failed event's id left the duplicate filter: delivered again, it backs up what is missing
            node.dropEvent("again", event);
            node.awaitResult(4, WAIT);
            List<JsonNode> second = node.results().subList(2, 4);
            JsonNode againVda = second.stream().filter(r -> r.path("disk").asText().equals("vda")).findFirst().orElseThrow();
            JsonNode againVdb = second.stream().filter(r -> r.path("disk").asText().equals("vdb")).findFirst().orElseThrow();
            assertThat(againVda.path("snapshot").asText()).isEqualTo(vdaSnapshot);
            assertThat(againVda.path("reason").asText()).startsWith("already backed up by this event");
            assertThat(againVdb.path("outcome").asText()).isEqualTo("ok");
            assertThat(againVdb.path("kind").asText()).isEqualTo("full");
            assertThat(QemuImages.bitmaps(vda)).isEqualTo(vdaBitmaps);
            JsonNode vm = awaitVmResult(node, 2);
            assertThat(vm.path("outcome").asText()).isEqualTo("ok");
            try (Repository repo = node.openRepository()) {
                List<SnapshotSummary> snapshots = repo.list(Optional.of("web"));
                assertThat(snapshots).extracting(SnapshotSummary::disk).containsExactlyInAnyOrder("vda", "vdb");
                VmBackup recorded = repo.vmBackups().load("web", SnapshotId.parse(vm.path("vmBackup").asText()));
                assertThat(recorded.snapshots()).extracting(SnapshotId::toString)
                        .containsExactlyInAnyOrder(vdaSnapshot, againVdb.path("snapshot").asText());
                ServiceHarness.assertRestoresTo(repo, repo.load(SnapshotId.parse(againVdb.path("snapshot").asText())),
                        ServiceHarness.snapshotOfDisk(vdb, dir.resolve("vdb.raw")), dir.resolve("r.qcow2"));
            }
        }
    }

    @Test
    void aDiskLeasedByAnotherNodeWaitsThenFailsNamingTheHolder() throws Exception {
        Path repository = dir.resolve("repository");
        Path images = Files.createDirectories(dir.resolve("images"));
        Path vda = QemuImages.createQcow2(images.resolve("web-vda.qcow2"), 16L << 20);
        Path vdb = QemuImages.createQcow2(images.resolve("web-vdb.qcow2"), 16L << 20);
        try (ServiceHarness node = node("a", repository, images)
                .set("coldcopy.disk-lock.wait-seconds", "1")
                .set("coldcopy.retry.max", "1")
                .start();
             Repository other = Repository.openOrInit(RepositoryUri.file(repository), RepositoryOptions.defaults())) {
            RepositoryLock lease = other.locks().leaseDisk("web", "vdb", "backup web/vdb (event elsewhere)", Duration.ZERO);
            long pid = ProcessHandle.current().pid();
            try {
                node.dropEvent("e", event("evt-9", vda, vdb));
                node.awaitResult(2, WAIT);
                JsonNode failed = node.results().stream().filter(r -> r.path("disk").asText().equals("vdb")).findFirst().orElseThrow();
                assertThat(failed.path("outcome").asText()).isEqualTo("failed");
                assertThat(failed.path("reason").asText()).contains("disk web/vdb is held by another coldcopy")
                        .contains("backup web/vdb (event elsewhere) by pid " + pid + " on ");
                assertThat(node.results().stream().filter(r -> r.path("disk").asText().equals("vda")).findFirst().orElseThrow()
                        .path("outcome").asText()).as("the other disk is not held up").isEqualTo("ok");
                assertThat(QemuImages.bitmaps(vdb)).as("nothing was done to the leased disk").isEmpty();
            } finally {
                lease.close();
            }
            node.dropEvent("e-again", event("evt-9", vda, vdb));
            node.awaitResult(4, WAIT);
            assertThat(node.results().subList(2, 4)).allSatisfy(r -> assertThat(r.path("outcome").asText()).isEqualTo("ok"));
        }
    }

    private static Map<String, String> snapshotsByDisk(List<JsonNode> results) {
        return results.stream().collect(Collectors.toMap(r -> r.path("disk").asText(), r -> r.path("snapshot").asText()));
    }

    private static JsonNode awaitVmResult(ServiceHarness node, int count) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            List<JsonNode> vms = node.vmResults();
            if (vms.size() >= count) {
                return vms.get(count - 1);
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no VM result " + count + " within " + WAIT + ": " + node.vmResults());
    }
}
