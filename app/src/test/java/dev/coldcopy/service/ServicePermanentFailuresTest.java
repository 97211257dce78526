package dev.coldcopy.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.testing.S3ProxyServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failures that no retry can mend fail at once: one attempt, one dead letter with the reason, well
 * before the first retry would even have started (the retry delay here is 15 s).
 */
class ServicePermanentFailuresTest {
    private static final Duration RETRY_DELAY = Duration.ofSeconds(15);

    @TempDir
    Path dir;
    ServiceHarness service;
    S3ProxyServer s3;

    @AfterEach
    void stop() {
        if (service != null) {
            service.close();
        }
        if (s3 != null) {
            s3.close();
        }
    }

    private ServiceHarness patientService() throws Exception {
        return new ServiceHarness(dir.resolve("home"))
                .set("coldcopy.retry.max", "3")
                .set("coldcopy.retry.delay-ms", Long.toString(RETRY_DELAY.toMillis()));
    }

    @Test
    @Timeout(90)
    void wrongS3CredentialsAreNotRetried() throws Exception {
        service = patientService();
        s3 = S3RepositoryRoundTripTest.startS3(service, dir);
        service.set("coldcopy.repository.s3.secret-key", "not-the-secret");
        assertFailsAtOnce("check the S3 access key and secret");
    }

    @Test
    @Timeout(60)
    void aWrongKeyFileIsNotRetried() throws Exception {
        Path repo = dir.resolve("repo");
        try (Repository created = Repository.init(RepositoryUri.file(repo), RepositoryOptions.builder().keyFile(key("right", 1)).build())) {
            assertThat(created.id()).isNotBlank();
        }
        service = patientService().set("coldcopy.repository", "file:" + repo).set("coldcopy.repository.key-file", key("wrong", 2).toString());
        assertFailsAtOnce("wrong key");
    }

    @Test
    @Timeout(60)
    void aMissingKeyFileIsNotRetried() throws Exception {
        service = patientService().set("coldcopy.repository.key-file", dir.resolve("no-such.key").toString());
        assertFailsAtOnce("no-such.key");
    }

    @Test
    @Timeout(90)
    void aMissingS3BucketIsNotRetried() throws Exception {
        service = patientService();
        s3 = S3RepositoryRoundTripTest.startS3(service, dir);
        service.set("coldcopy.repository", s3.repositoryUri("no-such-bucket", "vms").raw());
        assertFailsAtOnce("no-such-bucket");
    }

    @Test
    @Timeout(60)
    void aRefusedImageIsNotRetried() throws Exception {
        service = patientService();
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Path disk = QemuImages.createQcow2(outside.resolve("web.qcow2"), 16L << 20);
        service.start();
        Instant dropped = Instant.now();
        service.dropEvent("refused", ServiceHarness.event("web", "vda", disk));
        JsonNode dead = service.awaitDeadLetter(1, Duration.ofSeconds(30));
        assertThat(Duration.between(dropped, Instant.now())).isLessThan(RETRY_DELAY.minusSeconds(2));
        assertThat(dead.get("reason").asText()).contains("outside the allowed roots");
    }

    private void assertFailsAtOnce(String reasonPart) throws Exception {
        Path disk = QemuImages.createQcow2(service.images.resolve("web.qcow2"), 16L << 20);
        QemuImages.writePattern(disk, 0x42, 0, 1 << 20);
        service.start();
        Instant dropped = Instant.now();
        service.dropEvent("permanent", ServiceHarness.event("web", "vda", disk));
        JsonNode dead = service.awaitDeadLetter(1, Duration.ofSeconds(45));
        Duration took = Duration.between(dropped, Instant.now());
        assertThat(dead.get("reason").asText()).contains(reasonPart).doesNotContain("\n");
        assertThat(took).as("failed without retries: " + dead).isLessThan(RETRY_DELAY.minusSeconds(2));
        JsonNode result = service.awaitResult(1, Duration.ofSeconds(5));
        assertThat(result.get("outcome").asText()).isEqualTo("failed");
    }

    private Path key(String name, long seed) throws Exception {
        byte[] key = new byte[32];
        new Random(seed).nextBytes(key);
        Path file = dir.resolve(name + ".key");
        Files.writeString(file, HexFormat.of().formatHex(key));
        return file;
    }
}
