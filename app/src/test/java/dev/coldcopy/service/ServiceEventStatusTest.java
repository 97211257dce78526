package dev.coldcopy.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coldcopy.testing.QemuImages;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** GET /events/{id}: what became of an event the webhook accepted, also after the service restarted. */
class ServiceEventStatusTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(60);

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
    @Timeout(120)
    void queuedThenOkWithTheSnapshotAndStillKnownAfterARestart() throws Exception {
        service = new ServiceHarness(dir.resolve("home"));
        Path disk = QemuImages.createQcow2(service.images.resolve("web.qcow2"), 16L << 20);
        QemuImages.writePattern(disk, 0x42, 0, 1 << 20);
        service.start();
        service.camel().getRouteController().stopRoute("events-from-spool"); // hold it in the queue for a moment
        HttpResponse<String> accepted = service.postEvent(ServiceHarness.event("web", "vda", disk).replace("{", "{\"id\":\"web-stop-1\","));
        assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
        JsonNode queued = status("web-stop-1", 200);
        assertThat(queued.get("status").asText()).isEqualTo("queued");

        service.camel().getRouteController().startRoute("events-from-spool");
        JsonNode ok = awaitState("web-stop-1", "ok");
        JsonNode result = service.awaitResult(1, WAIT);
        assertThat(ok.get("snapshots")).hasSize(1);
        assertThat(ok.get("snapshots").get(0).get("disk").asText()).isEqualTo("vda");
        assertThat(ok.get("snapshots").get(0).get("snapshot").asText()).isEqualTo(result.get("snapshot").asText());
        assertThat(ok.get("vm").asText()).isEqualTo("web");

        service.close();
        service = new ServiceHarness(dir.resolve("home")).start();
        assertThat(status("web-stop-1", 200)).as("after a restart").isEqualTo(ok);
        JsonNode unknown = status("never-sent", 404);
        assertThat(unknown.get("status").asText()).isEqualTo("unknown");
    }

    @Test
    @Timeout(90)
    void failedWithTheReason() throws Exception {
        service = new ServiceHarness(dir.resolve("home")).start();
        HttpResponse<String> accepted = service.postEvent(ServiceHarness.event("db", "vda", service.images.resolve("gone.qcow2")));
        assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
        String id = JSON.readTree(accepted.body()).get("id").asText();
        JsonNode failed = awaitState(id, "failed");
        assertThat(failed.get("reason").asText()).contains("gone.qcow2", "does not exist");
    }

    @Test
    @Timeout(90)
    void aSpoolEventWithoutAnIdFailsUnderTheIdItWasGiven() throws Exception {
        service = new ServiceHarness(dir.resolve("home")).start();
        service.dropEvent("no-id", ServiceHarness.event("db", "vda", service.images.resolve("gone.qcow2")));
        JsonNode dead = service.awaitDeadLetter(1, WAIT);
        assertThat(dead.path("eventId").asText()).as(dead.toString()).startsWith("evt-");
        assertThat(dead.get("reason").asText()).as("the disk named once")
                .startsWith("db refused whole (nothing was backed up): disk vda: image ").contains("does not exist")
                .doesNotContain("db/vda");
        JsonNode failed = awaitState(dead.get("eventId").asText(), "failed");
        assertThat(failed.get("reason").asText()).isEqualTo(dead.get("reason").asText());
    }

    private JsonNode status(String id, int expectedStatus) throws Exception {
        HttpResponse<String> response = service.get("/events/" + id);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(expectedStatus);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
        return JSON.readTree(response.body());
    }

    private JsonNode awaitState(String id, String state) throws Exception {
        Instant end = Instant.now().plus(WAIT);
        JsonNode last = null;
        while (Instant.now().isBefore(end)) {
            HttpResponse<String> response = service.get("/events/" + id);
            if (response.statusCode() == 200) {
                last = JSON.readTree(response.body());
                if (state.equals(last.get("status").asText())) {
                    return last;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("event " + id + " never became " + state + "; last " + last);
    }
}
