package dev.coldcopy.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.testing.S3ProxyServer;
import dev.coldcopy.testing.KafkaBroker;
import dev.coldcopy.testing.QemuImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Not a test: the fleet benchmark of {@code bench/run --only fleet} (skipped unless {@code -Dcoldcopy.bench.fleet=true}).
 * N service processes (1, 2, 3) in one consumer group against one s3proxy repository back up the same set of VMs,
 * full backups then incrementals: backups per minute and bytes read per second as N grows. Writes a Markdown table
 * to {@code -Dcoldcopy.bench.out} (default {@code target/fleet-bench.md}).
 */
@Timeout(value = 30, unit = TimeUnit.MINUTES)
class FleetBenchmark {
    private static final long MIB = 1 << 20;
    private static final int VMS = Integer.getInteger("coldcopy.bench.vms", 24);
    private static final int DATA_MIB = Integer.getInteger("coldcopy.bench.data-mib", 48);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void backupsPerMinuteAsNodesAreAdded() throws Exception {
        Assumptions.assumeTrue(Boolean.getBoolean("coldcopy.bench.fleet"), "the fleet benchmark runs from bench/run only");
        List<String> rows = new ArrayList<>();
        rows.add("| nodes | kind | backups | wall s | backups/min | MiB read | MiB/s read | MiB stored |");
        rows.add("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (int n = 1; n <= 3; n++) {
            Path run = Files.createDirectories(dir.resolve("n" + n));
            try (S3ProxyServer s3 = S3ProxyServer.start(Files.createDirectories(run.resolve("s3")));
                 KafkaBroker kafka = KafkaBroker.start(run.resolve("kafka"))) {
                s3.createBucket("bench");
                RepositoryUri repository = s3.repositoryUri("bench", "vms");
                Path images = Files.createDirectories(run.resolve("images"));
                List<Path> disks = new ArrayList<>();
                for (int i = 0; i < VMS; i++) {
                    Path disk = QemuImages.createQcow2(images.resolve("vm" + i + ".qcow2"), 256 * MIB);
                    QemuImages.writeRandom(disk, 0, (int) (DATA_MIB * MIB), new Random(i));
                    disks.add(disk);
                }
                kafka.createTopic("coldcopy.events", 12);
                List<FleetNode> nodes = new ArrayList<>();
                try {
                    for (int k = 1; k <= n; k++) {
                        nodes.add(FleetNode.start("b" + k, run.resolve("node" + k),
                                FleetNode.settings(repository, kafka, images, "coldcopy", "coldcopy.events")));
                    }
                    Thread.sleep(8000);                   // every node has joined the group and owns partitions
                    for (int round = 1; round <= 2; round++) {
                        if (round == 2) {
                            for (int i = 0; i < VMS; i++) {
                                QemuImages.writeRandom(disks.get(i), 128 * MIB, (int) (DATA_MIB / 4 * MIB), new Random(1000 + i));
                            }
                        }
                        Instant start = Instant.now();
                        for (int i = 0; i < VMS; i++) {
                            kafka.send("coldcopy.events", "vm" + i, FleetTest.event("vm" + i, round, disks.get(i)));
                        }
                        List<JsonNode> results = awaitDiskResults(kafka, round);
                        double wall = Duration.between(start, Instant.now()).toMillis() / 1000.0;
                        long read = results.stream().mapToLong(r -> r.path("bytesRead").asLong()).sum();
                        long stored = results.stream().mapToLong(r -> r.path("bytesStored").asLong()).sum();
                        rows.add(String.format("| %d | %s | %d | %.1f | %.1f | %.0f | %.1f | %.0f |", n, round == 1 ? "full" : "incremental",
                                results.size(), wall, results.size() * 60 / wall, read / (double) MIB, read / (double) MIB / wall,
                                stored / (double) MIB));
                    }
                } finally {
                    for (FleetNode node : nodes) {
                        node.close();
                    }
                }
            }
        }
        Path out = Path.of(System.getProperty("coldcopy.bench.out", "target/fleet-bench.md"));
        Files.writeString(out, String.join("\n", rows) + "\n");
        System.out.println(String.join("\n", rows));
        assertThat(rows).hasSize(2 + 6);
    }

    /** The ok disk results of this round's events, once every VM has one. */
    private static List<JsonNode> awaitDiskResults(KafkaBroker kafka, int round) throws Exception {
        Instant end = Instant.now().plus(Duration.ofMinutes(10));
        while (Instant.now().isBefore(end)) {
            List<JsonNode> ok = new ArrayList<>();
            for (var record : kafka.records("coldcopy.results")) {
                JsonNode r = JSON.readTree(record.value());
                if (r.has("disk") && "ok".equals(r.path("outcome").asText()) && r.path("eventId").asText().endsWith("-r" + round)) {
                    ok.add(r);
                }
            }
            if (ok.size() >= VMS) {
                return ok;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("round " + round + " did not finish");
    }
}
