package dev.coldcopy.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.testing.QemuImages;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Health and Prometheus metrics of the running service, counting real backups by outcome. */
class ServiceObservabilityTest {
    @TempDir
    Path dir;
    ServiceHarness service;

    @AfterEach
    void stop() {
        service.close();
    }

    @Test
    void healthIsUpAndMetricsCountBackupsByOutcome() throws Exception {
        service = new ServiceHarness(dir.resolve("home"));
        Path disk = QemuImages.createQcow2(service.images.resolve("db.qcow2"), 16L << 20);
        QemuImages.writePattern(disk, 0x42, 1 << 20, 2 << 20);
        service.start();
        service.dropEvent("ok", ServiceHarness.event("db", "vda", disk));
        service.awaitResult(1, Duration.ofSeconds(60));
        service.dropEvent("missing", ServiceHarness.event("db", "vda", service.images.resolve("gone.qcow2")));
        service.awaitDeadLetter(1, Duration.ofSeconds(60));
        service.awaitResult(2, Duration.ofSeconds(60));

        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + service.httpPort + "/observe/health")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).contains("UP");
        String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + service.httpPort + "/observe/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).containsPattern("coldcopy_backups_total\\{[^}]*outcome=\"ok\"[^}]*\\} 1\\.0")
                .containsPattern("coldcopy_backups_total\\{[^}]*outcome=\"failed\"[^}]*\\} 1\\.0")
                .containsPattern("coldcopy_bytes_read_total\\{[^}]*\\} 2097152\\.0")
                .contains("coldcopy_backup_duration_ms");
    }
}
