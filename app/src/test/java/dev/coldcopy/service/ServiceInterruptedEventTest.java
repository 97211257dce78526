package dev.coldcopy.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coldcopy.testing.QemuImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A service killed in the middle of an event leaves the event's state "running", its id in the duplicate
 * filter and its spool file in the spool (the state a kill -9 leaves, set up here file by file). The
 * next start must back the event up, not skip it as a repeat and leave it "running" for ever.
 */
class ServiceInterruptedEventTest {
    @TempDir
    Path dir;
    ServiceHarness service;

    @AfterEach
    void stop() {
        if (service != null) {
            service.close();
        }
    }

    @Test
    void anEventInterruptedByAKilledServiceIsBackedUpAfterTheRestart() throws Exception {
        service = new ServiceHarness(dir.resolve("home"));
        Path disk = QemuImages.createQcow2(service.images.resolve("big.qcow2"), 16L << 20);
        QemuImages.writePattern(disk, 0x42, 1 << 20, 2 << 20);
        Path state = Files.createDirectories(service.home.resolve("state").resolve("events"));
        Files.writeString(state.resolve("crash-1.json"), "{\"status\":\"running\",\"vm\":\"big\",\"id\":\"crash-1\"}");
        Files.writeString(service.home.resolve("state").resolve("event-ids"), "earlier-1\ncrash-1\n");
        service.dropEvent("crash-1", "{\"id\":\"crash-1\",\"event\":\"stopped\",\"vm\":\"big\",\"disks\":[{\"target\":\"vda\",\"image\":\""
                + disk + "\"}]}");

        service.start();
        JsonNode result = service.awaitResult(1, Duration.ofSeconds(90));
        assertThat(result.path("outcome").asText()).as(result.toString()).isEqualTo("ok");
        assertThat(result.path("eventId").asText()).isEqualTo("crash-1");
        JsonNode status = new ObjectMapper().readTree(service.awaitStatus("/events/crash-1", 200, Duration.ofSeconds(30)).body());
        for (int i = 0; i < 100 && !"ok".equals(status.path("status").asText()); i++) {
            Thread.sleep(100);
            status = new ObjectMapper().readTree(service.get("/events/crash-1").body());
        }
        assertThat(status.path("status").asText()).as(status.toString()).isEqualTo("ok");
        assertThat(Files.readString(service.home.resolve("state").resolve("event-ids"))).contains("earlier-1").contains("crash-1");
    }
}
