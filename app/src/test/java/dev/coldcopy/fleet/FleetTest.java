package dev.coldcopy.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.testing.S3ProxyServer;
import dev.coldcopy.repository.verify.Verifier;
import dev.coldcopy.repository.verify.VerifyResult;
import dev.coldcopy.restore.RestoreFormat;
import dev.coldcopy.restore.RestoreRequest;
import dev.coldcopy.restore.Restorer;
import dev.coldcopy.testing.KafkaBroker;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fleet on one machine: a real Kafka broker (KRaft, its own process), s3proxy as the one repository, and
 * coldcopy services as separate JVMs. Shared storage: three nodes in one consumer group take 30 events of 10
 * VMs; one node is killed with -9 in the middle of a backup, the broker restarts in the middle of a round, a
 * prune runs beside the backups. Local storage: each of two "hosts" forwards its spool to its own topic and
 * consumes only that. Afterwards every event has exactly one ok result, every snapshot restores identical to
 * its disk at that round, verify is clean, the consumer groups' lag is 0 and no export process is left.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class FleetTest {
    private static final long MIB = 1 << 20;
    private static final Duration ROUND = Duration.ofMinutes(3);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String RESULTS = "coldcopy.results";

    @TempDir
    Path dir;
    S3ProxyServer s3;
    KafkaBroker kafka;
    RepositoryUri repository;
    final List<FleetNode> nodes = new ArrayList<>();

    @BeforeEach
    void servers() throws Exception {
        s3 = S3ProxyServer.start(Files.createDirectories(dir.resolve("s3")));
        s3.createBucket("fleet");
        repository = s3.repositoryUri("fleet", "vms");
        kafka = KafkaBroker.start(dir.resolve("kafka"));
    }

    @AfterEach
    void stopAll() throws Exception {
        try {
            for (FleetNode node : nodes) {
                node.close();
            }
        } finally {
            // a broker that failed to start leaves kafka null: s3proxy must go all the same
            if (kafka != null) {
                kafka.close();
            }
            if (s3 != null) {
                s3.close();
            }
        }
    }

    Map<String, String> nodeSettings(Path images, String group, String eventsTopic) {
        Map<String, String> s = FleetNode.settings(repository, kafka, images, group, eventsTopic);
        s.put("coldcopy.kafka.session-timeout-ms", "8000");      // a killed node's events move on within seconds
        s.put("coldcopy.kafka.heartbeat-interval-ms", "2000");
        return s;
    }

    @Test
    void sharedStorageThreeNodesOneKilledBrokerRestartedPruneBeside() throws Exception {
        Path images = Files.createDirectories(dir.resolve("shared-images"));
        kafka.createTopic("coldcopy.events", 6);
        List<String> vms = new ArrayList<>();
        Map<String, Path> disks = new LinkedHashMap<>();
        for (int i = 0; i < 10; i++) {
            String vm = String.format("vm%02d", i);
            vms.add(vm);
            // vm00 is large: its backup lasts long enough to kill the node doing it
            Path disk = QemuImages.createQcow2(images.resolve(vm + ".qcow2"), i == 0 ? 512 * MIB : 64 * MIB);
            QemuImages.writeRandom(disk, 0, (int) (i == 0 ? 64 * MIB : 4 * MIB), new Random(i));
            disks.put(vm, disk);
        }
        for (String n : List.of("n1", "n2", "n3")) {
            nodes.add(FleetNode.start(n, dir.resolve(n), nodeSettings(images, "coldcopy", "coldcopy.events")));
        }
        Map<String, Map<Integer, Path>> states = new HashMap<>();

        // round 1: every node at work
        sendRound(1, vms, disks);
        awaitRound(1, vms);
        keepStates(1, disks, states);

        // round 2: the node backing up vm00 is killed with -9 in the middle of it; its events go to another node
        changeDisks(disks, 2);
        Map<FleetNode, Integer> before = planned("vm00/vda");
        sendRound(2, vms, disks);
        FleetNode victim = awaitNodeStarting("vm00/vda", before);
        victim.kill();
        awaitRound(2, vms);
        keepStates(2, disks, states);

        // round 3: the broker restarts in the middle of it, and another node prunes beside the backups
        changeDisks(disks, 3);
        sendRound(3, vms.subList(0, 5), disks);
        Thread.sleep(1500);
        kafka.stop();
        Thread.sleep(3000);
        kafka.start();
        sendRound(3, vms.subList(5, 10), disks);
        prune();
        awaitRound(3, vms);
        keepStates(3, disks, states);

        assertEveryEventHasExactlyOneOkResult(vms, 3);
        assertThat(kafka.lag("coldcopy", "coldcopy.events")).as("consumer group lag").isZero();
        assertRestoresAndVerifies(disks, states, 3);
        assertThat(QemuImages.serversMentioning(dir.toString())).as("export processes left").isEmpty();
    }

    @Test
    void localStorageEachHostConsumesItsOwnTopic() throws Exception {
        Map<String, Path> disks = new LinkedHashMap<>();
        Map<String, FleetNode> hostOf = new HashMap<>();
        for (String host : List.of("h1", "h2")) {
            Path images = Files.createDirectories(dir.resolve(host + "-images"));
            kafka.createTopic("coldcopy.events." + host, 2);
            Map<String, String> settings = nodeSettings(images, "coldcopy-" + host, "coldcopy.events." + host);
            settings.put("coldcopy.kafka.forward-spool", "true");     // the hook's spool goes to this host's topic
            FleetNode node = FleetNode.start(host, dir.resolve(host), settings);
            nodes.add(node);
            for (int i = 0; i < 2; i++) {
                String vm = host + "-vm" + i;
                Path disk = QemuImages.createQcow2(images.resolve(vm + ".qcow2"), 64 * MIB);
                QemuImages.writeRandom(disk, 0, (int) (4 * MIB), new Random(vm.hashCode()));
                disks.put(vm, disk);
                hostOf.put(vm, node);
            }
        }
        List<String> vms = new ArrayList<>(disks.keySet());
        Map<String, Map<Integer, Path>> states = new HashMap<>();
        for (int round = 1; round <= 2; round++) {
            if (round > 1) {
                changeDisks(disks, round);
            }
            for (String vm : vms) {
                dropInSpool(hostOf.get(vm), eventId(vm, round), event(vm, round, disks.get(vm)));
            }
            awaitRound(round, vms);
            keepStates(round, disks, states);
        }
        assertEveryEventHasExactlyOneOkResult(vms, 2);
        for (String host : List.of("h1", "h2")) {
            assertThat(kafka.lag("coldcopy-" + host, "coldcopy.events." + host)).isZero();
            // only this host's VMs ever reached its topic
            assertThat(kafka.records("coldcopy.events." + host)).extracting(r -> r.key()).allMatch(k -> k.startsWith(host + "-"));
        }
        assertRestoresAndVerifies(disks, states, 2);
    }

    // ---- events and results

    static String eventId(String vm, int round) {
        return "fleet-" + vm + "-r" + round;
    }

    static String event(String vm, int round, Path disk) {
        ObjectNode e = JSON.createObjectNode().put("id", eventId(vm, round)).put("event", "stopped").put("vm", vm);
        e.putArray("disks").addObject().put("target", "vda").put("image", disk.toString());
        return e.toString();
    }

    private void sendRound(int round, List<String> vms, Map<String, Path> disks) {
        for (String vm : vms) {
            kafka.send("coldcopy.events", vm, event(vm, round, disks.get(vm)));
        }
    }

    private static void dropInSpool(FleetNode node, String id, String json) throws IOException {
        Path spool = Files.createDirectories(node.home.resolve("spool"));
        Path tmp = spool.resolve("." + id + ".json.tmp");
        Files.writeString(tmp, json);
        Files.move(tmp, spool.resolve(id + ".json"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** The VM results ({@code "type":"vm"}) on the results topic. */
    private List<JsonNode> vmResults() throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (var record : kafka.records(RESULTS)) {
            JsonNode n = JSON.readTree(record.value());
            if ("vm".equals(n.path("type").asText())) {
                out.add(n);
            }
        }
        return out;
    }

    private void awaitRound(int round, List<String> vms) throws Exception {
        Instant end = Instant.now().plus(ROUND);
        List<String> missing = List.of();
        while (Instant.now().isBefore(end)) {
            java.util.Set<String> ok = vmResults().stream().filter(r -> "ok".equals(r.path("outcome").asText()))
                    .map(r -> r.path("eventId").asText()).collect(Collectors.toSet());
            missing = vms.stream().map(vm -> eventId(vm, round)).filter(id -> !ok.contains(id)).toList();
            if (missing.isEmpty()) {
                return;
            }
            Thread.sleep(250);
        }
        StringBuilder logs = new StringBuilder();
        for (FleetNode n : nodes) {
            String log = n.log();
            logs.append("\n--- ").append(n.name).append(":\n").append(log.length() > 3000 ? log.substring(log.length() - 3000) : log);
        }
        throw new AssertionError("round " + round + ": no ok result for " + missing + " within " + ROUND + logs);
    }

    /** How many backups of the disk each node has planned so far (its log's plan lines). */
    private Map<FleetNode, Integer> planned(String disk) throws IOException {
        Map<FleetNode, Integer> seen = new HashMap<>();
        for (FleetNode n : nodes) {
            seen.put(n, count(n.log(), disk + ": plan"));
        }
        return seen;
    }

    /** The node whose log shows it planning one more backup of the disk than {@code seen} counted. */
    private FleetNode awaitNodeStarting(String disk, Map<FleetNode, Integer> seen) throws Exception {
        Instant end = Instant.now().plus(Duration.ofMinutes(1));
        while (Instant.now().isBefore(end)) {
            for (FleetNode n : nodes) {
                if (count(n.log(), disk + ": plan") > seen.get(n)) {
                    return n;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no node started backing up " + disk);
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    private void assertEveryEventHasExactlyOneOkResult(List<String> vms, int rounds) throws IOException {
        Map<String, Long> ok = vmResults().stream().filter(r -> "ok".equals(r.path("outcome").asText()))
                .collect(Collectors.groupingBy(r -> r.path("eventId").asText(), Collectors.counting()));
        for (String vm : vms) {
            for (int round = 1; round <= rounds; round++) {
                assertThat(ok.get(eventId(vm, round))).as("ok results of %s", eventId(vm, round)).isEqualTo(1L);
            }
        }
    }

    // ---- disks, restores

    private static void changeDisks(Map<String, Path> disks, int round) {
        int i = 0;
        for (Path disk : disks.values()) {
            QemuImages.writeRandom(disk, (8 + 4L * round) * MIB, (int) MIB, new Random(round * 1000L + i++));
        }
    }

    private void keepStates(int round, Map<String, Path> disks, Map<String, Map<Integer, Path>> states) {
        disks.forEach((vm, disk) -> states.computeIfAbsent(vm, k -> new HashMap<>())
                .put(round, QemuImages.convertToRaw(disk, dir.resolve(vm + "-r" + round + ".raw"))));
    }

    /** Each VM backup's disk restores identical to the disk at its round (pruned rounds excepted); verify clean. */
    private void assertRestoresAndVerifies(Map<String, Path> disks, Map<String, Map<Integer, Path>> states, int rounds)
            throws Exception {
        RepositoryOptions options = RepositoryOptions.builder().s3Credentials(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY).build();
        try (Repository repo = Repository.open(repository, options)) {
            int restored = 0;
            for (var backup : repo.vmBackups().list(Optional.empty())) {
                String id = backup.eventId();
                int round = Integer.parseInt(id.substring(id.lastIndexOf("-r") + 2));
                SnapshotId snapshot = backup.disk("vda").orElseThrow().snapshot();
                Path out = dir.resolve("restored-" + id + ".raw");
                new Restorer(repo).restore(RestoreRequest.of(repo.load(snapshot), out, RestoreFormat.RAW));
                assertThat(QemuImages.identical(out, states.get(backup.vm()).get(round))).as("%s restores", id).isTrue();
                Files.delete(out);
                restored++;
            }
            assertThat(restored).as("VM backups restored").isGreaterThanOrEqualTo(disks.size() * Math.min(rounds, 2));
            VerifyResult verify = new Verifier(repo, false).verify(Optional.empty());
            assertThat(verify.problems()).as("verify").isEmpty();
        }
    }

    /** {@code coldcopy prune --keep-last 2} from another process, as an operator's cron job would run it. */
    private void prune() throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), "dev.coldcopy.cli.ColdcopyCommand", "prune", "--repo", repository.raw(),
                "--keep-last", "2").redirectErrorStream(true).redirectOutput(dir.resolve("prune.log").toFile());
        pb.environment().put("AWS_ACCESS_KEY_ID", S3ProxyServer.ACCESS_KEY);
        pb.environment().put("AWS_SECRET_ACCESS_KEY", S3ProxyServer.SECRET_KEY);
        Process p = pb.start();
        assertThat(p.waitFor(3, TimeUnit.MINUTES)).as("prune ends").isTrue();
        assertThat(p.exitValue()).as(Files.readString(dir.resolve("prune.log"))).isZero();
    }
}
