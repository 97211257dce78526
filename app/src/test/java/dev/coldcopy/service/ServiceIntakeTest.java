package dev.coldcopy.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.coldcopy.testing.QemuImages;
import java.io.RandomAccessFile;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.camel.Consumer;
import org.apache.camel.Endpoint;
import org.apache.camel.spi.PollingConsumerPollStrategy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The intake side of the service stays whole: oversized spool files, stopped routes, a poller killed by an Error. */
class ServiceIntakeTest {
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
    void anOversizedSpoolFileIsMovedToFailedUnreadAndPollingGoesOn() throws Exception {
        service = new ServiceHarness(dir.resolve("home"));
        Path disk = QemuImages.createQcow2(service.images.resolve("db.qcow2"), 16L << 20);
        QemuImages.writePattern(disk, 0x42, 0, 1 << 20);
        service.start();
        Files.createDirectories(service.spool());
        Path big = service.spool().resolve(".huge.json.tmp");
        try (RandomAccessFile file = new RandomAccessFile(big.toFile(), "rw")) {
            file.setLength(120L << 20); // sparse: 120 MB of zeros, no disk space
        }
        Files.move(big, service.spool().resolve("huge.json"));
        JsonNode dead = service.awaitDeadLetter(1, WAIT);
        assertThat(dead.get("reason").asText())
                .isEqualTo("spool file huge.json is 125829120 bytes, more than coldcopy.events.max-bytes (1048576): not read");
        assertThat(dead.get("event").asText()).isEqualTo("(125829120 bytes, not read)");
        assertThat(service.failedSpoolFiles()).extracting(p -> p.getFileName().toString()).containsExactly("huge.json");

        service.dropEvent("next", ServiceHarness.event("db", "vda", disk));
        assertThat(service.awaitResult(1, WAIT).get("outcome").asText()).isEqualTo("ok");
        assertThat(service.awaitStatus("/observe/health", 200, WAIT).body()).contains("UP");
    }

    @Test
    @Timeout(60)
    void healthIsDownWhileAnIntakeRouteIsNotRunning() throws Exception {
        service = new ServiceHarness(dir.resolve("home")).start();
        assertThat(service.awaitStatus("/observe/health", 200, WAIT).statusCode()).isEqualTo(200);
        service.camel().getRouteController().stopRoute("events-from-spool");
        HttpResponse<String> down = service.awaitStatus("/observe/health", 503, Duration.ofSeconds(10));
        assertThat(down.statusCode()).isEqualTo(503);
        assertThat(down.body()).contains("DOWN", "events-from-spool");
        service.camel().getRouteController().startRoute("events-from-spool");
        assertThat(service.awaitStatus("/observe/health", 200, WAIT).statusCode()).isEqualTo(200);
    }

    @Test
    @Timeout(90)
    void aPollerKilledByAnErrorIsRestarted() throws Exception {
        Path routes = Files.createDirectories(dir.resolve("config").resolve("routes"));
        Files.writeString(routes.resolve("probe.yaml"), """
                - route:
                    id: probe
                    from:
                      uri: "file:{{coldcopy.home}}/probe-in?pollStrategy=#errorOnce&delay=200"
                      steps:
                        - to: "file:{{coldcopy.home}}/probe-out"
                """);
        ErrorOnce errorOnce = new ErrorOnce();
        service = new ServiceHarness(dir.resolve("home")).configDir(dir.resolve("config")).bind("errorOnce", errorOnce).start();
        Path in = Files.createDirectories(service.home.resolve("probe-in"));
        Files.writeString(in.resolve("a.txt"), "after the error");
        Path out = service.home.resolve("probe-out").resolve("a.txt");
        long end = System.nanoTime() + Duration.ofSeconds(45).toNanos();
        while (!Files.exists(out) && System.nanoTime() < end) {
            Thread.sleep(100);
        }
        assertThat(errorOnce.thrown).as("the poller met its error").isTrue();
        assertThat(out).as("the route polls again").exists();
        assertThat(service.awaitStatus("/observe/health", 200, WAIT).statusCode()).isEqualTo(200);
    }

    /** Throws an Error from the first poll, outside any exchange: Camel's scheduler dies of it. */
    static final class ErrorOnce implements PollingConsumerPollStrategy {
        volatile boolean thrown;
        private final AtomicBoolean armed = new AtomicBoolean(true);

        @Override
        public boolean begin(Consumer consumer, Endpoint endpoint) {
            if (armed.getAndSet(false)) {
                thrown = true;
                throw new OutOfMemoryError("simulated: heap exhausted while polling");
            }
            return true;
        }

        @Override
        public void commit(Consumer consumer, Endpoint endpoint, int polledMessages) {
        }

        @Override
        public boolean rollback(Consumer consumer, Endpoint endpoint, int retryCounter, Exception cause) {
            return false;
        }
    }
}
