package dev.coldcopy.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotId;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** POST /events: 202 with the event id and the backup lands; a redelivered event is backed up once; a bad one is 400. */
class ServiceWebhookTest {
    private static final long MIB = 1 << 20;
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    ServiceHarness service;
    Path disk;

    @BeforeEach
    void start() throws Exception {
        service = new ServiceHarness(dir.resolve("home"));
        disk = QemuImages.createQcow2(service.images.resolve("web.qcow2"), 16 * MIB);
        ServiceHarness.writeRandom(disk, 2 * MIB, (int) MIB, 7, dir);
        service.start();
    }

    @AfterEach
    void stop() throws Exception {
        service.close();
        assertThat(ServiceHarness.awaitNoQemuChildren(Duration.ofSeconds(10))).isEmpty();
    }

    @Test
    void postedEventAnswers202WithItsIdAndTheBackupLands() throws Exception {
        HttpResponse<String> response = service.postEvent(ServiceHarness.event("web", "vda", disk));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        JsonNode answer = JSON.readTree(response.body());
        assertThat(answer.get("status").asText()).isEqualTo("queued");
        String id = answer.get("id").asText();
        assertThat(id).isNotBlank();

        JsonNode result = service.awaitResult(1, WAIT);
        assertThat(result.get("outcome").asText()).as(result.toString()).isEqualTo("ok");
        // the id the sender was given is the one the backup ran under (to match results to requests)
        assertThat(result.get("eventId").asText()).isEqualTo(id);
        try (Repository repository = service.openRepository()) {
            ServiceHarness.assertRestoresTo(repository, repository.load(SnapshotId.parse(result.get("snapshot").asText())),
                    ServiceHarness.snapshotOfDisk(disk, dir.resolve("disk.raw")), dir.resolve("restored.qcow2"));
        }
        assertThat(service.deadLetters()).isEmpty();
    }

    @Test
    void sameEventPostedTwiceGivesOneBackup() throws Exception {
        String event = "{\"id\":\"evt-web-42\",\"event\":\"stopped\",\"vm\":\"web\",\"disks\":[{\"target\":\"vda\",\"image\":\"" + disk + "\"}]}";
        for (int i = 0; i < 2; i++) {
            HttpResponse<String> response = service.postEvent(event);
            assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
            assertThat(JSON.readTree(response.body()).get("id").asText()).isEqualTo("evt-web-42");
        }
        JsonNode first = service.awaitResult(1, WAIT);
        assertThat(first.get("outcome").asText()).as(first.toString()).isEqualTo("ok");
        // delivered again after it was backed up (a sender that did not see the 202, say)
        assertThat(service.postEvent(event).statusCode()).isEqualTo(202);

        // a later, different event: once its result is in, the redeliveries before it were handled too
        Path other = QemuImages.createQcow2(service.images.resolve("db.qcow2"), 8 * MIB);
        assertThat(service.postEvent(ServiceHarness.event("db", "vda", other)).statusCode()).isEqualTo(202);
        service.awaitResult(2, WAIT);
        Thread.sleep(500);
        List<JsonNode> results = service.results();
        assertThat(results).hasSize(2);
        assertThat(results.stream().filter(r -> r.get("eventId").asText().equals("evt-web-42"))).hasSize(1);
        try (Repository repository = service.openRepository()) {
            assertThat(repository.list(java.util.Optional.of("web"))).hasSize(1);
        }
        assertThat(service.deadLetters()).isEmpty();
    }

    @Test
    void badEventAnswers400WithTheReasonAndIsDeadLettered() throws Exception {
        HttpResponse<String> response = service.postEvent("{\"event\":\"stopped\",\"vm\":\"web\"}");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
        JsonNode answer = JSON.readTree(response.body());
        assertThat(answer.get("status").asText()).isEqualTo("rejected");
        assertThat(answer.get("reason").asText()).isEqualTo("event has no 'disks' (and no 'domainXml' to read them from)");

        JsonNode dead = service.awaitDeadLetter(1, Duration.ofSeconds(10));
        assertThat(dead.get("reason").asText()).isEqualTo(answer.get("reason").asText());
        assertThat(dead.get("event").asText()).contains("\"vm\":\"web\"");

        HttpResponse<String> notJson = service.postEvent("vm=web");
        assertThat(notJson.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(notJson.body()).get("reason").asText()).startsWith("event is not valid JSON");
        service.awaitDeadLetter(2, Duration.ofSeconds(10));

        Thread.sleep(500);
        assertThat(service.results()).isEmpty();
        try (Stream<Path> spool = Files.list(service.spool())) {
            assertThat(spool.filter(p -> p.toString().endsWith(".json"))).as("nothing queued").isEmpty();
        }
    }
}
