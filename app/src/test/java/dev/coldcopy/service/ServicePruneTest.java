package dev.coldcopy.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.repository.verify.Verifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service's scheduled prune: three backups of a disk with keep-last 1 (and a VM of its own keeping
 * two), the prune route runs on its timer, writes its JSON result, and the metrics follow: prune
 * counters, and per disk the snapshot count and the newest backup's time. What is left restores.
 */
class ServicePruneTest {
    @TempDir
    Path dir;
    ServiceHarness service;

    @AfterEach
    void stop() {
        service.close();
    }

    @Test
    void scheduledPruneRunsWritesItsResultAndUpdatesTheMetrics() throws Exception {
        service = new ServiceHarness(dir.resolve("home"))
                .set("coldcopy.retention.keep-last", "1")
                .set("coldcopy.retention.vm.keeper.keep-last", "2")
                .set("coldcopy.prune.schedule", "2s")
                .set("coldcopy.prune.delay", "2s");
        Path db = QemuImages.createQcow2(service.images.resolve("db.qcow2"), 8L << 20);
        Path keeper = QemuImages.createQcow2(service.images.resolve("keeper.qcow2"), 8L << 20);
        service.start();
        int results = 0;
        for (int i = 0; i < 3; i++) {
            QemuImages.writePattern(db, 0x10 + i, (long) i << 20, 1 << 20);
            QemuImages.writePattern(keeper, 0x20 + i, (long) i << 20, 1 << 20);
            service.dropEvent("db-" + i, ServiceHarness.event("db", "vda", db));
            service.dropEvent("keeper-" + i, ServiceHarness.event("keeper", "vda", keeper));
            results += 2;
            assertThat(service.awaitResult(results, Duration.ofSeconds(90)).path("outcome").asText()).isEqualTo("ok");
        }
        Instant lastBackup = Instant.now();
        JsonNode prune = awaitPruneAfter(lastBackup, Duration.ofSeconds(60));
        assertThat(prune.path("outcome").asText()).as(prune.toString()).isEqualTo("ok");

        try (Repository repo = service.openRepository()) {
            assertThat(repo.list(Optional.of("db"))).hasSize(1);
            assertThat(repo.list(Optional.of("keeper"))).hasSize(2);
            SnapshotManifest latest = repo.latest("db", "vda").orElseThrow();
            Path state = ServiceHarness.snapshotOfDisk(db, dir.resolve("db-state.raw"));
            ServiceHarness.assertRestoresTo(repo, latest, state, dir.resolve("db-restored.qcow2"));
            assertThat(new Verifier(repo).verify(Optional.empty()).problems()).isEmpty();
        }
        int removed = service.pruneResults().stream().mapToInt(n -> n.path("snapshotsRemoved").asInt()).sum();
        assertThat(removed).as("snapshots removed over all prunes").isEqualTo(2 + 1);

        String metrics = service.get("/observe/metrics").body();
        assertThat(metrics).containsPattern("coldcopy_prune_runs_total\\{[^}]*outcome=\"ok\"[^}]*\\} [1-9]")
                .containsPattern("coldcopy_prune_snapshots_removed_total\\{[^}]*\\} 3\\.0")
                .contains("coldcopy_prune_bytes_freed_total")
                .contains("coldcopy_prune_duration_ms")
                .containsPattern("coldcopy_snapshots\\{disk=\"vda\",vm=\"db\"\\} 1\\.0")
                .containsPattern("coldcopy_snapshots\\{disk=\"vda\",vm=\"keeper\"\\} 2\\.0")
                .containsPattern("coldcopy_last_backup_timestamp_seconds\\{disk=\"vda\",vm=\"db\"\\} [0-9.E]+");
        long seconds = Math.round(Double.parseDouble(metrics.lines()
                .filter(l -> l.startsWith("coldcopy_last_backup_timestamp_seconds{disk=\"vda\",vm=\"db\"}"))
                .findFirst().orElseThrow().replaceAll(".* ", "")));
        assertThat(seconds).isBetween(lastBackup.getEpochSecond() - 120, lastBackup.getEpochSecond() + 1);
    }

    /** the first prune result that started after the given time (waits for it) */
    private JsonNode awaitPruneAfter(Instant after, Duration timeout) throws Exception {
        Instant end = Instant.now().plus(timeout);
        while (Instant.now().isBefore(end)) {
            List<JsonNode> prunes = service.pruneResults();
            for (JsonNode n : prunes) {
                if (Instant.parse(n.path("started").asText()).isAfter(after)) {
                    return n;
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no prune result after " + after + " in " + timeout + ": " + service.pruneResults());
    }
}
