package dev.coldcopy.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.testing.Tools;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.SnapshotManifest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One test body for every repository backend: a qcow2 chain (base + top overlay) → event → full
 * snapshot → restore identical; more writes → second event → an incremental that stored about the dirty
 * bytes → restore identical to the new state, and the first snapshot still restores to the old one.
 * Subclasses only say where the repository lives ({@link #useRepository}).
 */
abstract class RepositoryRoundTripContract {
    static final long MIB = 1 << 20;
    static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir
    Path dir;
    ServiceHarness service;
    Path top;

    /** Starts the repository's server if it has one and points the service at it. */
    abstract void useRepository(ServiceHarness service, Path dir) throws Exception;

    /** Stops the repository's server (after the service stopped). */
    void closeRepository() throws Exception {}

    @BeforeEach
    void start() throws Exception {
        service = new ServiceHarness(dir.resolve("home"));
        Path base = QemuImages.createQcow2(service.images.resolve("base.qcow2"), 32 * MIB);
        ServiceHarness.writeRandom(base, 0, (int) MIB, 1, dir);
        QemuImages.writePattern(base, 0x11, 8 * MIB, 4 * MIB);
        QemuImages.io(base, "write -z 20M 1M");
        top = service.images.resolve("top.qcow2");
        Tools.run(Duration.ofSeconds(30), List.of("qemu-img", "create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "qcow2", top.toString()));
        QemuImages.writePattern(top, 0x22, 24 * MIB, 2 * MIB);
        ServiceHarness.writeRandom(top, 4 * MIB, (int) MIB, 2, dir);
        useRepository(service, dir);
        service.start();
    }

    @AfterEach
    void stop() throws Exception {
        try {
            service.close();
        } finally {
            closeRepository();
        }
        assertThat(ServiceHarness.awaitNoQemuChildren(Duration.ofSeconds(10))).as("qemu processes left").isEmpty();
    }

    @Test
    void fullThenIncrementalEachRestoresIdentical() throws Exception {
        service.dropEvent("first", ServiceHarness.event("web", "vda", top));
        JsonNode first = service.awaitResult(1, WAIT);
        assertThat(first.get("outcome").asText()).as(first.toString()).isEqualTo("ok");
        assertThat(first.get("kind").asText()).isEqualTo("full");
        Path state1 = ServiceHarness.snapshotOfDisk(top, dir.resolve("state1.raw"));

        long dirty = 0;
        for (int i = 0; i < 8; i++) {
            ServiceHarness.writeRandom(top, (2 + i * 3L) * MIB + 4096 * 16, 64 * 1024, 100 + i, dir);
            dirty += 64 * 1024;
        }
        service.dropEvent("second", ServiceHarness.event("web", "vda", top));
        JsonNode second = service.awaitResult(2, WAIT);
        assertThat(second.get("outcome").asText()).as(second.toString()).isEqualTo("ok");
        assertThat(second.get("kind").asText()).isEqualTo("incremental");
        assertThat(second.get("bytesRead").asLong()).isBetween(dirty, (long) (dirty * 1.25));
        assertThat(second.get("bytesStored").asLong()).isBetween(dirty / 2, (long) (dirty * 1.25));
        Path state2 = ServiceHarness.snapshotOfDisk(top, dir.resolve("state2.raw"));

        try (Repository repository = service.openRepository()) {
            SnapshotManifest full = repository.load(SnapshotId.parse(first.get("snapshot").asText()));
            SnapshotManifest incremental = repository.load(SnapshotId.parse(second.get("snapshot").asText()));
            ServiceHarness.assertRestoresTo(repository, incremental, state2, dir.resolve("restored2.qcow2"));
            ServiceHarness.assertRestoresTo(repository, full, state1, dir.resolve("restored1.qcow2"));
        }
        assertThat(service.deadLetters()).isEmpty();
        assertThat(service.exportDirectories()).as("export directories left").isEmpty();
        String info = Tools.run("qemu-img", "info", "--output=json", top.toString());
        assertThat(info).contains(second.get("checkpoint").asText()).doesNotContain(first.get("checkpoint").asText());
    }
}
