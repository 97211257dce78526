package dev.coldcopy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.testing.Tools;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code coldcopy run} as a user starts it: its own JVM, its own environment. */
class RunCommandTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(90)
    void aBusyHttpPortStopsTheServiceWithOneLineNamingTheAddress() throws Exception {
        try (ServerSocket busy = new ServerSocket()) {
            busy.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            int port = busy.getLocalPort();
            CliRun run = ColdcopyProcess.run(dir, Duration.ofSeconds(60), Map.of("COLDCOPY_HOME", dir.resolve("home").toString()),
                    "run", "-Dcamel.server.port=" + port);
            assertThat(run.exit()).as(run.err()).isNotZero();
            assertThat(run.err()).contains("coldcopy run: cannot listen on 127.0.0.1:" + port + ": address already in use")
                    .doesNotContain("\tat ", "Exception");
        }
    }

    @Test
    @Timeout(90)
    void healthAndMetricsMoveWithCamelServerPortAlone() throws Exception {
        int port = Tools.freePort();
        try (ColdcopyProcess service = ColdcopyProcess.start(dir, Map.of("COLDCOPY_HOME", dir.resolve("home").toString()),
                "run", "-Dcamel.server.port=" + port)) {
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> health = awaitHttp(http, service, "http://127.0.0.1:" + port + "/observe/health");
            assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
            assertThat(health.body()).contains("UP");
            HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/observe/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.body()).contains("jvm_memory");
            assertThat(service.err()).as("run warns about a missing image root")
                    .contains("allowed image root " + dir.resolve("home").resolve("images") + " does not exist");
        }
    }

    @Test
    @Timeout(90)
    void checkShowsWhatRunWouldUseWithDashDOverTheEnvironmentAndStartsNothing() throws Exception {
        Path home = dir.resolve("home");
        Path spool = dir.resolve("spool-from-dash-d");
        CliRun check = ColdcopyProcess.run(dir, Duration.ofSeconds(60),
                Map.of("COLDCOPY_HOME", home.toString(), "COLDCOPY_SPOOL_DIR", dir.resolve("spool-from-env").toString(),
                        "COLDCOPY_RETRY_MAX", "7"),
                "run", "--check", "-Dcoldcopy.spool.dir=" + spool, "-Dcamel.server.port=1");
        assertThat(check.exit()).as(check.err()).isZero();
        assertThat(check.out()).contains("configuration OK", "spool       " + spool, "home        " + home,
                "repository  file:" + home.resolve("repository"), "HTTP        http://127.0.0.1:1",
                "events-from-spool", "events-from-http", "backup-vm");
        assertThat(spool).as("the spool consumer never started").doesNotExist();
    }

    @Test
    @Timeout(60)
    void kafkaRoutesComeWithTheKafkaProfileAndCheckOpensNoClientNorPrintsASecret() throws Exception {
        String home = "-Dcoldcopy.home=" + dir.resolve("home");
        CliRun plain = CliRun.coldcopy("run", "--check", home);
        assertThat(plain.exit()).as(plain.err()).isZero();
        assertThat(plain.out()).contains("events-from-spool").doesNotContain("kafka");

        int nobody = Tools.freePort(); // no broker there: a client that tried to connect would fail the check
        CliRun kafka = CliRun.coldcopy("run", "--check", "--profile", "kafka", home,
                "-Dcoldcopy.kafka.bootstrap-servers=127.0.0.1:" + nobody, "-Dcoldcopy.kafka.node=hv1",
                "-Dcamel.component.kafka.securityProtocol=SASL_PLAINTEXT", "-Dcamel.component.kafka.saslMechanism=PLAIN",
                "-Dcamel.component.kafka.saslJaasConfig=org.apache.kafka.common.security.plain.PlainLoginModule required"
                        + " username=\"coldcopy\" password=\"s3cret-pw\";");
        assertThat(kafka.exit()).as(kafka.err()).isZero();
        assertThat(kafka.out()).contains("kafka       127.0.0.1:" + nobody + " as node hv1: events coldcopy.events (group coldcopy),"
                + " results coldcopy.results, event ids coldcopy.event-ids")
                .contains("events-from-kafka", "forward-event", "results-to-kafka", "spool-event", "events-from-spool")
                .doesNotContain("s3cret-pw");
        assertThat(kafka.err()).doesNotContain("s3cret-pw");
    }

    @Test
    void checkFailsOnATypoNamingTheLikelyKey() throws Exception {
        Path config = Files.createDirectories(dir.resolve("config"));
        Files.writeString(config.resolve("application.properties"), "coldcopy.home = " + dir.resolve("home") + "\ncoldcopy.retry.maxx = 5\n");
        CliRun check = CliRun.coldcopy("run", "--check", "--config", config.toString());
        assertThat(check.exit()).isEqualTo(1);
        assertThat(check.out()).doesNotContain("configuration OK").contains("configuration has 1 problem(s), listed below");
        assertThat(check.err().strip()).isEqualTo("coldcopy run --check: unknown setting coldcopy.retry.maxx ("
                + config.resolve("application.properties") + ") is ignored: did you mean coldcopy.retry.max?");
    }

    @Test
    void checkFailsOnABadValueNamingTheKeyAndTheForm() {
        CliRun check = CliRun.coldcopy("run", "--check", "-Dcoldcopy.home=" + dir.resolve("home"), "-Dcoldcopy.parallel.disks=two");
        assertThat(check.exit()).isEqualTo(1);
        assertThat(check.err().strip())
                .isEqualTo("coldcopy run: coldcopy.parallel.disks = 'two' is not valid: expected a whole number >= 1, e.g. 2");
    }

    @Test
    void checkFailsOnARouteThatCannotBeBuilt() throws Exception {
        Path routes = Files.createDirectories(dir.resolve("config").resolve("routes"));
        Files.writeString(routes.resolve("mine.yaml"), """
                - route:
                    id: mine
                    from:
                      uri: "timer:tick?period={{coldcopy.my-period}}"
                      steps:
                        - to: "log:tick"
                """);
        CliRun check = CliRun.coldcopy("run", "--check", "--config", dir.resolve("config").toString(), "-Dcoldcopy.home=" + dir.resolve("home"));
        assertThat(check.exit()).isEqualTo(1);
        assertThat(check.err()).contains("coldcopy.my-period");
    }

    @Test
    @Timeout(120)
    void a120MegabyteSpoolFileDoesNotStopTheSpoolInA256MegabyteHeap() throws Exception {
        Path home = dir.resolve("home");
        Path spool = Files.createDirectories(home.resolve("spool"));
        try (ColdcopyProcess service = ColdcopyProcess.start(dir, Map.of("COLDCOPY_HOME", home.toString()),
                "run", "-Dcamel.server.port=" + Tools.freePort(), "-Dcoldcopy.spool.poll-ms=200")) {
            Path tmp = spool.resolve(".huge.json.tmp");
            try (java.io.RandomAccessFile file = new java.io.RandomAccessFile(tmp.toFile(), "rw")) {
                file.setLength(120L << 20);
            }
            Files.move(tmp, spool.resolve("huge.json"));
            Path failed = spool.resolve("failed").resolve("huge.json");
            awaitFile(service, failed);
            // the poller lives on: the next (bad) event is read and dead-lettered too
            Files.writeString(spool.resolve(".next.json.tmp"), "{\"event\":\"stopped\"}");
            Files.move(spool.resolve(".next.json.tmp"), spool.resolve("next.json"));
            awaitFile(service, spool.resolve("failed").resolve("next.json"));
            assertThat(service.isAlive()).isTrue();
            assertThat(service.err()).doesNotContain("OutOfMemoryError");
        }
    }

    private static void awaitFile(ColdcopyProcess service, Path file) throws Exception {
        Instant end = Instant.now().plusSeconds(60);
        while (!Files.exists(file)) {
            if (Instant.now().isAfter(end) || !service.isAlive()) {
                throw new AssertionError(file + " never appeared; stderr: " + service.err());
            }
            Thread.sleep(200);
        }
    }

    private static HttpResponse<String> awaitHttp(HttpClient http, ColdcopyProcess service, String url) throws Exception {
        Instant end = Instant.now().plusSeconds(60);
        while (true) {
            try {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
                // 404: not there (yet); 503: up, but the spool consumer has not polled yet
                if (response.statusCode() == 200 || Instant.now().isAfter(end)) {
                    return response;
                }
            } catch (java.io.IOException e) {
                if (!service.isAlive() || Instant.now().isAfter(end)) {
                    throw new AssertionError("service not reachable at " + url + ": " + service.err(), e);
                }
            }
            Thread.sleep(250);
        }
    }
}
