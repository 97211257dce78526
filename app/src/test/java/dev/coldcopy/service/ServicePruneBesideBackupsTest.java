package dev.coldcopy.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.lifecycle.KeepRules;
import dev.coldcopy.repository.lifecycle.PruneResult;
import dev.coldcopy.repository.lifecycle.Pruner;
import dev.coldcopy.repository.lock.RepositoryLocks;
import dev.coldcopy.repository.testing.S3ProxyServer;
import dev.coldcopy.repository.verify.Verifier;
import dev.coldcopy.testing.QemuImages;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two nodes on one S3 repository: one backs a disk up event after event through the service, the other prunes
 * (keep-last 1) over and over meanwhile. The disk returns to an earlier state, so a backup stores nothing new
 * and names the chunks of a snapshot the prune is forgetting right then: the case a collector blind to running
 * backups gets wrong. Afterwards every snapshot left restores identical to the disk at its time, verify is
 * clean and no lock or lease is left.
 */
class ServicePruneBesideBackupsTest {
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void aPruneOnAnotherNodeWhileThisOneBacksUpLosesNothing() throws Exception {
        try (ServiceHarness service = new ServiceHarness(dir.resolve("home"));
             S3ProxyServer s3 = S3RepositoryRoundTripTest.startS3(service, dir)) {
            Path disk = QemuImages.createQcow2(service.images.resolve("web.qcow2"), 32L * MIB);
            service.start();
            RepositoryUri uri = RepositoryUri.parse(service.camel().resolvePropertyPlaceholders("{{coldcopy.repository}}"));
            RepositoryOptions options = RepositoryOptions.builder().s3Credentials(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY).build();

            // the disk's states: A, B, A again (a backup that reuses only A's chunks), then C beside it
            List<Runnable> states = List.of(
                    () -> QemuImages.writeRandom(disk, 0, 8 * MIB, new Random(1)),
                    () -> QemuImages.writeRandom(disk, 0, 8 * MIB, new Random(2)),
                    () -> QemuImages.writeRandom(disk, 0, 8 * MIB, new Random(1)),
                    () -> QemuImages.writeRandom(disk, 8L * MIB, 4 * MIB, new Random(3)));
            Map<String, Path> contentAt = new HashMap<>();
            List<PruneResult> prunes = new CopyOnWriteArrayList<>();
            List<Throwable> pruneFailures = new CopyOnWriteArrayList<>();
            AtomicBoolean done = new AtomicBoolean();
            Thread otherNode = null;
            try {
                for (int i = 0; i < states.size(); i++) {
                    states.get(i).run();
                    Path raw = ServiceHarness.snapshotOfDisk(disk, dir.resolve("state-" + i + ".raw"));
                    service.dropEvent("e" + i, "{\"id\":\"evt-" + i + "\",\"event\":\"stopped\",\"vm\":\"web\",\"disks\":[{\"target\":\"vda\",\"image\":\""
                            + disk + "\"}]}");
                    JsonNode r = service.awaitResult(i + 1, WAIT);
                    assertThat(r.path("outcome").asText()).as(r.toString()).isEqualTo("ok");
                    contentAt.put(r.path("snapshot").asText(), raw);
                    if (otherNode == null) { // the repository exists now: the other node starts pruning
                        otherNode = new Thread(() -> pruneUntil(done, uri, options, prunes, pruneFailures), "other-node-prune");
                        otherNode.start();
                    }
                }
            } finally {
                done.set(true);
                if (otherNode != null) {
                    otherNode.join(WAIT.toMillis());
                }
            }
            assertThat(pruneFailures).isEmpty();
            assertThat(prunes).as("the other node pruned while this one backed up").hasSizeGreaterThan(1);
            try (Repository repo = Repository.open(uri, options)) {
                PruneResult last = new Pruner(repo).prune(request(), d -> { });
                int removed = last.snapshotsRemoved() + prunes.stream().mapToInt(PruneResult::snapshotsRemoved).sum();
                assertThat(removed).as("every snapshot but the newest went").isEqualTo(states.size() - 1);
                List<SnapshotId> left = repo.snapshotIds();
                assertThat(left).hasSize(1);
                for (SnapshotId id : left) {
                    ServiceHarness.assertRestoresTo(repo, repo.load(id), contentAt.get(id.toString()), dir.resolve("restored-" + id + ".qcow2"));
                }
                assertThat(new Verifier(repo).verify(Optional.empty()).problems()).isEmpty();
                // the VM's lease of the last backup goes right after its disk result: give it a moment
                java.time.Instant end = java.time.Instant.now().plusSeconds(20);
                while (!repo.backend().list(RepositoryLocks.PREFIX).isEmpty() && java.time.Instant.now().isBefore(end)) {
                    Thread.sleep(100);
                }
                assertThat(repo.backend().list(RepositoryLocks.PREFIX)).as("no lock or lease left").isEmpty();
            }
        }
    }

    /** the other node: prune after prune, a moment apart (so that backups waiting for it get their turn) */
    private static void pruneUntil(AtomicBoolean done, RepositoryUri uri, RepositoryOptions options, List<PruneResult> prunes,
                                   List<Throwable> failures) {
        try (Repository repo = Repository.open(uri, options)) {
            while (!done.get()) {
                prunes.add(new Pruner(repo).prune(request(), d -> { }));
                Thread.sleep(1500);
            }
        } catch (Exception | AssertionError e) {
            failures.add(e);
        }
    }

    private static Pruner.Request request() {
        return new Pruner.Request(Optional.empty(), Optional.empty(), KeepRules.NONE.withLast(1), false, WAIT);
    }
}
