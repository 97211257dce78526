package dev.coldcopy.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.lifecycle.KeepRules;
import dev.coldcopy.repository.lifecycle.PruneResult;
import dev.coldcopy.repository.lifecycle.Pruner;
import dev.coldcopy.repository.testing.S3ProxyServer;
import dev.coldcopy.repository.testing.S3RequestCounter;
import dev.coldcopy.testing.QemuImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import org.apache.camel.spi.IdempotentRepository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The S3 requests the service makes, counted on the wire between it and s3proxy (every request, by the
 * operation a store bills and the repository area of its key): a full backup of a disk with N new chunks,
 * one whose N chunks all exist already (another VM with the same data), an incremental with one new chunk,
 * the same event delivered again, and a prune. The figures are the inputs of the README's capacity model; the
 * test pins what must hold as a repository grows: per chunk one existence check and, if new, one PUT; no
 * listing of the whole repository's snapshots or chunks in a backup; a repeated event reads and writes no chunk.
 */
class S3RequestPatternTest {
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final int MIB = 1 << 20;
    /** data windows of the measured disk: one 4 MiB chunk each */
    private static final int N = 6;
    private static final String PREFIX = "vms/";

    @TempDir
    Path dir;

    @Test
    void requestsPerBackupAndPrune() throws Exception {
        try (S3ProxyServer s3 = S3ProxyServer.start(Files.createDirectories(dir.resolve("s3")));
             S3RequestCounter counter = new S3RequestCounter(s3.port(), "backups");
             ServiceHarness service = new ServiceHarness(dir.resolve("home"))) {
            s3.createBucket("backups");
            RepositoryUri uri = RepositoryUri.parse("s3://backups/vms?endpoint=" + counter.endpoint() + "&region=" + S3ProxyServer.REGION);
            RepositoryOptions options = RepositoryOptions.builder().s3Credentials(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY).build();
            service.repository(uri, options)
                    .set("coldcopy.repository.s3.access-key", S3ProxyServer.ACCESS_KEY)
                    .set("coldcopy.repository.s3.secret-key", S3ProxyServer.SECRET_KEY);
            Path warm = QemuImages.createQcow2(service.images.resolve("warm.qcow2"), 8L * MIB);
            QemuImages.writePattern(warm, 0x01, 0, MIB);
            Path a = QemuImages.createQcow2(service.images.resolve("a.qcow2"), 64L * MIB);
            Path b = QemuImages.createQcow2(service.images.resolve("b.qcow2"), 64L * MIB);
            for (int w = 0; w < N; w++) {   // the same random data in both: b's full finds every chunk stored
                QemuImages.writeRandom(a, (long) w * 4 * MIB, 4 * MIB, new Random(w));
                QemuImages.writeRandom(b, (long) w * 4 * MIB, 4 * MIB, new Random(w));
            }
            service.start();
            Map<String, Map<String, Integer>> table = new LinkedHashMap<>();

            backup(service, counter, "warm", warm, "evt-warm", 1);     // first use: repository created, store probed
            table.put("first backup of the process (repository created)", areas(counter));

            backup(service, counter, "a", a, "evt-a1", 2);
            Map<String, Integer> fullNew = areas(counter);
            table.put("full, N=" + N + " new chunks", fullNew);

            backup(service, counter, "b", b, "evt-b1", 3);
            Map<String, Integer> fullReused = areas(counter);
            table.put("full, M=" + N + " chunks already stored", fullReused);

            QemuImages.writeRandom(a, 0, 4 * MIB, new Random(99));
            backup(service, counter, "a", a, "evt-a2", 4);
            Map<String, Integer> incremental = areas(counter);
            table.put("incremental, 1 new chunk", incremental);

            // the same event again (its id forgotten by the duplicate filter, as on another node)
            service.camel().getRegistry().lookupByNameAndType("eventIds", IdempotentRepository.class).remove("evt-a2");
            backup(service, counter, "a", a, "evt-a2", 5);
            Map<String, Integer> repeated = areas(counter);
            table.put("the same event delivered again", repeated);

            // what every disk backup costs whatever its data: locks, lease, manifest, summary, the VM backup
            for (Map<String, Integer> m : List.of(fullNew, fullReused, incremental)) {
                assertThat(m.getOrDefault("chunks LIST", 0) + m.getOrDefault("snapshots LIST (all VMs)", 0)
                        + m.getOrDefault("summaries LIST", 0)).as("no listing of the whole repository in a backup: " + m).isZero();
                assertThat(m.get("snapshots PUT")).as("one manifest").isEqualTo(1);
                assertThat(m.get("summaries PUT")).as("one summary").isEqualTo(1);
                assertThat(m.get("vms PUT")).as("one VM backup record").isEqualTo(1);
            }
            assertThat(fullNew.get("chunks PUT")).isEqualTo(N);
            assertThat(fullNew.get("chunks GET")).as("one existence check per chunk (a ranged GET)").isEqualTo(N);
            assertThat(fullReused.getOrDefault("chunks PUT", 0)).isZero();
            assertThat(fullReused.get("chunks GET")).isEqualTo(N);
            assertThat(incremental.get("chunks PUT")).isEqualTo(1);
            assertThat(incremental.get("chunks GET")).as("unchanged ranges cost no request").isEqualTo(1);
            assertThat(repeated.keySet()).as("a repeated event touches no chunk and writes nothing but leases")
                    .noneMatch(k -> k.startsWith("chunks") || k.equals("snapshots PUT") || k.equals("summaries PUT") || k.equals("vms PUT"));
            int fixed = total(fullNew) - 2 * N;
            assertThat(total(fullReused)).isEqualTo(fixed + N);
            // disk lease, shared lock and VM lease: PUT, LIST, DELETE each, a HEAD to confirm before the commit (the
            // VM backup takes its own shared lock); the disk's snapshot listing; the manifest, summary, VM record
            assertThat(fixed).as("requests per disk backup whatever its data").isLessThanOrEqualTo(22);

            // a prune (another node's) with 4 snapshots, 4 VM backups: keep-last 1 forgets a's first full
            counter.reset();
            PruneResult pruned;
            try (Repository node = Repository.open(uri, options)) {
                pruned = new Pruner(node).prune(new Pruner.Request(Optional.empty(), Optional.empty(), KeepRules.NONE.withLast(1), false,
                        Duration.ofMinutes(1)), d -> { });
            }
            table.put("prune: 4 snapshots, 4 VM backups, " + (pruned.chunksKept() + pruned.chunksRemoved()) + " chunks; removed "
                    + pruned.snapshotsRemoved() + " snapshot(s), " + pruned.chunksRemoved() + " chunk(s)", areas(counter));
            assertThat(pruned.snapshotsRemoved()).isEqualTo(1);

            String report = render(table, fixed);
            System.out.println(report);
            Files.writeString(Path.of("target", "s3-request-pattern.md"), report);
        }
    }

    private static void backup(ServiceHarness service, S3RequestCounter counter, String vm, Path image, String id, int results)
            throws Exception {
        counter.reset();
        service.dropEvent(id + "-" + results, "{\"id\":\"" + id + "\",\"event\":\"stopped\",\"vm\":\"" + vm
                + "\",\"disks\":[{\"target\":\"vda\",\"image\":\"" + image + "\"}]}");
        JsonNode r = service.awaitResult(results, WAIT);
        assertThat(r.path("outcome").asText()).as(r.toString()).isEqualTo("ok");
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (service.vmResults().size() < results && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(service.vmResults()).hasSize(results);
        Thread.sleep(300); // the VM lease is released before the VM result is written; nothing else runs after
    }

    /** requests per repository area and operation, e.g. "chunks PUT" */
    private static Map<String, Integer> areas(S3RequestCounter counter) {
        Map<String, Integer> out = new TreeMap<>();
        for (S3RequestCounter.Request r : counter.requests()) {
            String key = r.key().startsWith(PREFIX) ? r.key().substring(PREFIX.length()) : r.key();
            String area = key.isEmpty() ? "bucket" : key.contains("/") ? key.substring(0, key.indexOf('/')) : key;
            if (area.equals("snapshots") && r.operation().equals("LIST") && key.equals("snapshots/")) {
                area = "snapshots LIST (all VMs)";
                out.merge(area, 1, Integer::sum);
                continue;
            }
            out.merge(area + " " + r.operation(), 1, Integer::sum);
        }
        return out;
    }

    private static int total(Map<String, Integer> m) {
        return m.values().stream().mapToInt(Integer::intValue).sum();
    }

    private static String render(Map<String, Map<String, Integer>> table, int fixed) {
        List<String> lines = new ArrayList<>();
        lines.add("S3 requests per operation, counted between coldcopy and s3proxy (chunk size 4 MiB, one disk per VM):");
        lines.add("");
        lines.add("| what | requests | by area and operation |");
        lines.add("| --- | --- | --- |");
        table.forEach((what, m) -> lines.add("| " + what + " | " + total(m) + " | " + m.toString().replace("{", "").replace("}", "") + " |"));
        lines.add("");
        lines.add("Per disk backup: " + fixed + " requests whatever the data, plus one ranged GET per chunk read and one PUT per new chunk.");
        return String.join("\n", lines) + "\n";
    }
}
