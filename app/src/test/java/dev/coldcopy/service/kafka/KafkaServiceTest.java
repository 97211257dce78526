package dev.coldcopy.service.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.service.ServiceHarness;
import dev.coldcopy.testing.KafkaBroker;
import dev.coldcopy.testing.QemuImages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The service with the kafka profile against a real Kafka broker (its own process, KRaft): events from
 * the events topic are backed up and restore identical, results reach the results topic, every offset is
 * committed once its results (or dead letter) are written, a repeated event id is skipped across nodes,
 * and a forwarding node's spool reaches the topic, also after the broker was down. One broker for the
 * class (starting one takes seconds); each test has topics and a consumer group of its own.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KafkaServiceTest {
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final long MIB = 1 << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    Path dir;
    KafkaBroker broker;
    final List<ServiceHarness> nodes = new ArrayList<>();

    @BeforeAll
    void startBroker() throws IOException {
        dir = Files.createTempDirectory("coldcopy-kafka");
        broker = KafkaBroker.start(dir.resolve("broker"));
    }

    @AfterEach
    void stopNodes() {
        nodes.forEach(ServiceHarness::close);
        nodes.clear();
        broker.start(); // a test that stopped it and failed leaves the next one a broker all the same
    }

    @AfterAll
    void stopBroker() throws IOException {
        broker.close();
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** A node of the fleet named {@code name}, on the topics and group of {@code fleet} (created here). */
    private ServiceHarness node(String name, String fleet) {
        for (String topic : List.of(fleet + ".events", fleet + ".results", fleet + ".ids")) {
            broker.createTopic(topic, topic.endsWith(".events") ? 2 : 1);
        }
        try {
            ServiceHarness node = new ServiceHarness(dir.resolve(name)).profile("kafka")
                    .set("coldcopy.kafka.bootstrap-servers", broker.bootstrapServers())
                    .set("coldcopy.kafka.events-topic", fleet + ".events")
                    .set("coldcopy.kafka.results-topic", fleet + ".results")
                    .set("coldcopy.kafka.event-ids-topic", fleet + ".ids")
                    .set("coldcopy.kafka.group-id", fleet)
                    .set("coldcopy.kafka.node", name)
                    .set("coldcopy.kafka.session-timeout-ms", "6000")
                    .set("coldcopy.kafka.heartbeat-interval-ms", "1000")
                    .set("coldcopy.kafka.send-timeout-ms", "3000");
            nodes.add(node);
            return node;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String event(String id, String vm, Path image) {
        return "{\"id\":\"" + id + "\",\"event\":\"stopped\",\"vm\":\"" + vm + "\",\"disks\":[{\"target\":\"vda\",\"image\":\"" + image + "\"}]}";
    }

    private static Path disk(ServiceHarness node, String vm, int pattern) {
        Path disk = QemuImages.createQcow2(node.images.resolve(vm + ".qcow2"), 16 * MIB);
        QemuImages.writePattern(disk, pattern, 2 * MIB, MIB);
        return disk;
    }

    /** The snapshot a result names restores to exactly the disk's content now. */
    private void assertRestores(ServiceHarness node, JsonNode result, Path disk) throws IOException {
        assertThat(result.get("outcome").asText()).as(result.toString()).isEqualTo("ok");
        Path restored = dir.resolve("restored-" + result.get("snapshot").asText() + ".qcow2");
        try (Repository repository = node.openRepository()) {
            ServiceHarness.assertRestoresTo(repository, repository.load(SnapshotId.parse(result.get("snapshot").asText())),
                    ServiceHarness.snapshotOfDisk(disk, dir.resolve(result.get("snapshot").asText() + ".raw")), restored);
        }
    }

    private static void await(String what, BooleanSupplier done) throws InterruptedException {
        Instant end = Instant.now().plus(WAIT);
        while (!done.getAsBoolean()) {
            if (Instant.now().isAfter(end)) {
                throw new AssertionError(what + " within " + WAIT);
            }
            Thread.sleep(200);
        }
    }

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + text, e);
        }
    }

    @Test
    @Timeout(240)
    void eventsFromTheTopicAreBackedUpResultsPublishedAndEveryOffsetCommitted() throws Exception {
        ServiceHarness a = node("node-a", "main");
        Path web = disk(a, "web", 0x11);
        Path db = disk(a, "db", 0x22);
        a.start();
        broker.send("main.events", "web", event("evt-web-1", "web", web));
        broker.send("main.events", "db", event("evt-db-1", "db", db));
        a.awaitResult(2, WAIT);
        await("two VM results", () -> uncheck(() -> a.vmResults().size() == 2));
        for (JsonNode result : a.results()) {
            assertRestores(a, result, result.get("vm").asText().equals("web") ? web : db);
        }

        // every result also on the results topic, keyed by its VM: a disk's and the VM's for each event
        await("4 results on the topic", () -> broker.records("main.results").size() == 4);
        List<ConsumerRecord<String, String>> published = broker.records("main.results");
        assertThat(published).extracting(ConsumerRecord::key).containsExactlyInAnyOrder("web", "web", "db", "db");
        for (ConsumerRecord<String, String> r : published) {
            JsonNode result = json(r.value());
            assertThat(result.get("vm").asText()).isEqualTo(r.key());
            assertThat(result.get("outcome").asText()).isEqualTo("ok");
        }
        assertThat(published.stream().filter(r -> json(r.value()).path("type").asText().equals("vm"))).hasSize(2);

        await("lag 0 on the events topic", () -> broker.lag("main", "main.events") == 0);
        assertThat(json(a.get("/events/evt-web-1").body()).get("status").asText()).isEqualTo("ok");
        // this node's metrics say which node they are
        assertThat(a.get("/observe/metrics").body())
                .containsPattern("coldcopy_backups_total\\{[^}]*node=\"node-a\"[^}]*outcome=\"ok\"[^}]*\\} 2\\.0");

        // a bad event: dead-lettered with where it came from, committed, and the partition goes on
        broker.send("main.events", "web", "{\"event\":\"stopped\",\"vm\":");
        JsonNode dead = a.awaitDeadLetter(1, WAIT);
        assertThat(dead.get("reason").asText()).startsWith("event is not valid JSON");
        assertThat(dead.get("source").asText()).matches("kafka:main\\.events/[01]@\\d+");
        await("lag 0 after the bad event", () -> broker.lag("main", "main.events") == 0);
        assertThat(a.results()).hasSize(2);
        assertThat(ServiceHarness.awaitNoQemuChildren(Duration.ofSeconds(10))).isEmpty();
    }

    @Test
    @Timeout(240)
    void anEventDeliveredAgainIsBackedUpOnceAcrossTheFleet() throws Exception {
        ServiceHarness a = node("node-c", "dup");
        Path web = disk(a, "web", 0x33);
        a.start();
        String event = event("evt-dup-1", "web", web);
        broker.send("dup.events", "web", event);
        JsonNode result = a.awaitResult(1, WAIT);
        assertRestores(a, result, web);
        broker.send("dup.events", "web", event); // redelivered to the same node
        await("lag 0 after the repeat", () -> broker.lag("dup", "dup.events") == 0);
        assertThat(a.results()).hasSize(1);
        assertThat(broker.records("dup.ids")).extracting(ConsumerRecord::key).containsExactly("evt-dup-1");
        a.close();

        // another node of the group, on the same images and repository, learns the id from the topic
        ServiceHarness b = node("node-d", "dup")
                .set("coldcopy.allowed-roots", a.images.toString())
                .set("coldcopy.repository", "file:" + a.home.resolve("repository"));
        b.start();
        broker.send("dup.events", "web", event);
        await("lag 0 after the repeat on another node", () -> broker.lag("dup", "dup.events") == 0);
        assertThat(b.results()).isEmpty();
        assertThat(b.deadLetters()).isEmpty();
        try (Repository repository = a.openRepository()) {
            assertThat(repository.list(java.util.Optional.of("web"))).hasSize(1);
        }
    }

    @Test
    @Timeout(300)
    void aForwardingNodesSpoolReachesTheTopicAndWaitsForTheBroker() throws Exception {
        ServiceHarness consumer = node("node-e", "fwd");
        Path web = disk(consumer, "web", 0x44);
        Path db = disk(consumer, "db", 0x55);
        ServiceHarness forwarder = node("node-f", "fwd")
                .set("coldcopy.kafka.forward-spool", "true")
                .set("coldcopy.kafka.consume", "false");
        consumer.start();
        forwarder.start();

        // the hook's event (no id): forwarded keyed by VM with this host and an id, backed up by the consumer
        forwarder.dropEvent("web-stopped", ServiceHarness.event("web", "vda", web));
        JsonNode result = consumer.awaitResult(1, WAIT);
        assertRestores(consumer, result, web);
        List<ConsumerRecord<String, String>> sent = broker.records("fwd.events");
        assertThat(sent).hasSize(1);
        assertThat(sent.get(0).key()).isEqualTo("web");
        JsonNode forwarded = json(sent.get(0).value());
        assertThat(forwarded.get("host").asText()).isEqualTo("node-f");
        assertThat(forwarded.get("id").asText()).isEqualTo(result.get("eventId").asText());
        await("the spool file in done/", () -> doneFiles(forwarder.spool()) == 1);
        assertThat(forwarder.results()).isEmpty();
        // the forwarding node's GET /events/{id} says where the event went, not "queued" for ever
        JsonNode state = json(forwarder.get("/events/" + result.get("eventId").asText()).body());
        assertThat(state.get("status").asText()).isEqualTo("forwarded");
        assertThat(state.get("topic").asText()).isEqualTo("fwd.events");

        // the broker goes away: the next spool file stays where it is, nothing is dead-lettered
        broker.stop();
        forwarder.dropEvent("db-stopped", event("evt-db-down", "db", db));
        Thread.sleep(8_000); // more than two sends that time out (coldcopy.kafka.send-timeout-ms = 3 s)
        assertThat(forwarder.spool().resolve("db-stopped.json")).exists();
        assertThat(doneFiles(forwarder.spool())).isEqualTo(1);
        assertThat(forwarder.failedSpoolFiles()).isEmpty();
        assertThat(forwarder.deadLetters()).isEmpty();

        // the broker is back: the file is forwarded and backed up
        broker.start();
        JsonNode second = consumer.awaitResult(2, WAIT);
        assertThat(second.get("eventId").asText()).isEqualTo("evt-db-down");
        assertRestores(consumer, second, db);
        await("the second spool file in done/", () -> doneFiles(forwarder.spool()) == 2);
        assertThat(forwarder.spool().resolve("db-stopped.json")).doesNotExist();
        await("lag 0 for the consumer", () -> broker.lag("fwd", "fwd.events") == 0);
        assertThat(consumer.deadLetters()).isEmpty();
    }

    @Test
    @Timeout(240)
    void everyKafkaClientOfTheNodeAuthenticatesWithTheComponentsSaslSettings() throws Exception {
        // the broker's SASL listener refuses a client without them: the consumer, the results producer and
        // the event ids would each fail, and no result would reach the topic
        ServiceHarness node = node("node-s", "sasl")
                .set("coldcopy.kafka.bootstrap-servers", broker.saslBootstrapServers())
                .set("camel.component.kafka.securityProtocol", "SASL_PLAINTEXT")
                .set("camel.component.kafka.saslMechanism", "PLAIN")
                .set("camel.component.kafka.saslJaasConfig", broker.saslJaasConfig());
        Path web = disk(node, "web", 0x66);
        node.start();
        broker.send("sasl.events", "web", event("evt-sasl-1", "web", web));
        assertRestores(node, node.awaitResult(1, WAIT), web);
        await("the disk's and the VM's result on the topic", () -> broker.records("sasl.results").size() == 2);
        await("the event id shared", () -> broker.records("sasl.ids").stream().anyMatch(r -> r.key().equals("evt-sasl-1")));
        await("lag 0", () -> broker.lag("sasl", "sasl.events") == 0);
    }

    @Test
    @Timeout(120)
    void anEventWhoseNodeDiedMidBackupIsNotTakenForDoneByTheNext() throws Exception {
        broker.createTopic("ids.ids", 1);
        try (org.apache.camel.impl.DefaultCamelContext first = idsContext(); org.apache.camel.impl.DefaultCamelContext next = idsContext()) {
            FleetEventIds dying = FleetEventIds.create(first);
            dying.start();
            assertThat(dying.add("evt-started")).as("a new event").isTrue();
            assertThat(dying.add("evt-done")).isTrue();
            assertThat(dying.confirm("evt-done")).isTrue();
            assertThat(dying.add("evt-done")).as("a repeat on the same node").isFalse();
            dying.stop(); // died: evt-started was never confirmed nor removed

            FleetEventIds survivor = FleetEventIds.create(next);
            survivor.start();
            assertThat(survivor.add("evt-done")).as("backed up by the dead node: a repeat").isFalse();
            assertThat(survivor.add("evt-started")).as("unfinished on the dead node: backed up here").isTrue();
            assertThat(survivor.add("evt-started")).as("now in flight here").isFalse();
            survivor.remove("evt-started"); // failed here: may come again
            assertThat(survivor.add("evt-started")).isTrue();
            survivor.stop();
        }
        assertThat(broker.records("ids.ids")).extracting(ConsumerRecord::key).containsExactly("evt-done");
    }

    private org.apache.camel.impl.DefaultCamelContext idsContext() {
        org.apache.camel.impl.DefaultCamelContext camel = new org.apache.camel.impl.DefaultCamelContext();
        java.util.Properties settings = new java.util.Properties();
        settings.setProperty(KafkaSettings.BOOTSTRAP_SERVERS, broker.bootstrapServers());
        settings.setProperty(KafkaSettings.EVENT_IDS_TOPIC, "ids.ids");
        camel.getPropertiesComponent().setInitialProperties(settings);
        camel.start();
        return camel;
    }

    private static long doneFiles(Path spool) {
        Path done = spool.resolve("done");
        if (!Files.isDirectory(done)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(done)) {
            return files.filter(Files::isRegularFile).count();
        } catch (IOException e) {
            return 0;
        }
    }

    private interface Check {
        boolean get() throws Exception;
    }

    private static boolean uncheck(Check check) {
        try {
            return check.get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
