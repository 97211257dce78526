package dev.coldcopy.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code --config DIR} with routes of the user's own: added next to the shipped ones, a same-named file replaces ours. */
class ServiceConfigDirTest {
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
    @Timeout(60)
    void aUsersOwnRouteIsAddedAndAShippedFileIsReplacedOnlyByItsNamesake() throws Exception {
        Path routes = Files.createDirectories(dir.resolve("config").resolve("routes"));
        Files.writeString(routes.resolve("mine.yaml"), """
                - route:
                    id: mine
                    from:
                      uri: "file:{{coldcopy.home}}/mine-in?delay=200"
                      steps:
                        - to: "file:{{coldcopy.home}}/mine-out"
                """);
        String errors = new String(getClass().getResourceAsStream("/routes/errors.yaml").readAllBytes())
                .replace("description: One JSON entry per event that failed for good, with its reason", "description: the user's dead letter");
        assertThat(errors).contains("the user's dead letter");
        Files.writeString(routes.resolve("errors.yaml"), errors);
        service = new ServiceHarness(dir.resolve("home")).configDir(dir.resolve("config")).start();

        assertThat(service.camel().getRoute("mine")).as("the user's route").isNotNull();
        assertThat(service.camel().getRoute("dead-letter").getDescription()).as("replaced by its namesake").isEqualTo("the user's dead letter");
        assertThat(service.camel().getRoute("events-from-spool")).as("shipped routes kept").isNotNull();
        HttpResponse<String> posted = service.postEvent("{\"event\":\"stopped\"}");
        assertThat(posted.statusCode()).as("the webhook is still there: " + posted.body()).isEqualTo(400);

        Files.writeString(Files.createDirectories(service.home.resolve("mine-in")).resolve("x.txt"), "x");
        Path out = service.home.resolve("mine-out").resolve("x.txt");
        long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!Files.exists(out) && System.nanoTime() < end) {
            Thread.sleep(100);
        }
        assertThat(out).exists();
    }
}
