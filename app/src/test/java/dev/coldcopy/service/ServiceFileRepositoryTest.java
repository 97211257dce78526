package dev.coldcopy.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.coldcopy.nbd.testing.QemuImages;
import dev.coldcopy.nbd.testing.Tools;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.SnapshotManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The same event delivered twice through the spool gives one backup (the round trips are in RepositoryRoundTripContract). */
class ServiceFileRepositoryTest {
    private static final long MIB = 1 << 20;
    private static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir
    Path dir;
    ServiceHarness service;
    Path top;

    @BeforeEach
    void start() throws Exception {
        service = new ServiceHarness(dir.resolve("home"));
        Path base = QemuImages.createQcow2(service.images.resolve("base.qcow2"), 64 * MIB);
        ServiceHarness.writeRandom(base, 0, (int) MIB, 1, dir);
        QemuImages.writePattern(base, 0x11, 8 * MIB, 4 * MIB);
        QemuImages.qemuIo(base, "qcow2", "write -z 20M 1M");
        top = service.images.resolve("top.qcow2");
        Tools.run(Duration.ofSeconds(30), List.of("qemu-img", "create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "qcow2", top.toString()));
        QemuImages.writePattern(top, 0x22, 30 * MIB, 2 * MIB);
        service.start();
    }

    @AfterEach
    void stop() {
        service.close();
    }

    @Test
    void sameEventTwiceGivesOneBackup() throws Exception {
        String event = "{\"id\":\"evt-1\",\"event\":\"stopped\",\"vm\":\"web\",\"disks\":[{\"target\":\"vda\",\"image\":\"" + top + "\"}]}";
        service.dropEvent("a", event);
        service.awaitResult(1, WAIT);
        service.dropEvent("b", event);
        Thread.sleep(3000);
        assertThat(service.results()).hasSize(1);
        assertThat(Files.list(service.spool().resolve("done")).findFirst().map(d -> d.toFile().list().length)).contains(2);
    }
}
