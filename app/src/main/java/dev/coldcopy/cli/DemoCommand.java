package dev.coldcopy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.qemu.QemuTools;
import dev.coldcopy.restore.RestoreFormat;
import dev.coldcopy.restore.RestoreRequest;
import dev.coldcopy.restore.Restorer;
import dev.coldcopy.service.ColdcopyMain;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.apache.camel.main.Main;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = {
            "Walk through two backups and two restores on a scratch VM disk.",
            "",
            "Creates a small qcow2 chain, starts the service on a scratch home, drops a",
            "\"stopped\" event into its spool and shows the full backup arriving; writes to",
            "the disk, drops a second event and shows the incremental; then restores both",
            "snapshots and proves them identical to the disk as it was at each backup.",
            "Everything happens under --dir (removed unless --keep)."
        })
final class DemoCommand implements Callable<Integer> {
    private static final long MIB = 1 << 20;
    private static final Duration WAIT = Duration.ofMinutes(3);
    private static final QemuTools QEMU = QemuTools.defaults().withTimeout(Duration.ofMinutes(2));

    @Spec
    CommandSpec spec;

    @Option(names = "--dir", paramLabel = "DIR", description = "Work directory (default: a new one under /var/tmp).")
    Path dir;

    @Option(names = "--keep", description = "Keep the work directory (disk, repository, results) afterwards.")
    boolean keep;

    private PrintWriter out;

    @Override
    public Integer call() throws Exception {
        out = spec.commandLine().getOut();
        Path work = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory(Path.of("/var/tmp"), "coldcopy-demo-");
        Path home = work.resolve("home");
        Path images = Files.createDirectories(home.resolve("images"));
        Main service = null;
        try {
            step("1. A VM disk: a qcow2 base image with data, and an overlay on top of it (a backing chain)");
            Path base = images.resolve("demo-base.qcow2");
            Path top = images.resolve("demo.qcow2");
            QEMU.create(base, "qcow2", 64 * MIB);
            writeRandom(base, 0, 4 * MIB, 1, work);
            QEMU.io(base, "qcow2", "write -P 0x61 16M 8M");
            QEMU.createOverlay(top, base, "qcow2");
            writeRandom(top, 40 * MIB, 2 * MIB, 2, work);
            say("   %s -> %s", top, base);

            step("2. The service, on a scratch home: spool in, local file repository out");
            service = new ColdcopyMain(Optional.empty(), List.of(), Map.of(
                    "coldcopy.home", home.toString(),
                    "coldcopy.spool.poll-ms", "250",
                    "camel.main.jmxEnabled", "false",
                    "camel.server.port", "0",               // any free port: the demo must not clash
                    "camel.management.port", "0"),
                    "*.yaml", Map.of()).build();                   // nothing from the environment: COLDCOPY_HOME is not the demo's
            service.start();
            say("   spool %s, repository %s", home.resolve("spool"), home.resolve("repository"));

            step("3. The VM stops: its event lands in the spool (as the libvirt hook writes it)");
            Path state1 = work.resolve("state-1.raw");
            JsonNode first = stopEvent(home, 1, top, state1);

            step("4. The guest writes again: 8 scattered 64 KiB blocks");
            for (int i = 0; i < 8; i++) {
                writeRandom(top, (5 + i * 7L) * MIB, 64 * 1024, 10 + i, work);
            }
            step("5. The VM stops again: an incremental backup of just the dirty blocks");
            Path state2 = work.resolve("state-2.raw");
            JsonNode second = stopEvent(home, 2, top, state2);

            step("6. Restore both snapshots and compare them with the disk as it was at each backup");
            try (Repository repository = Repository.open(RepositoryUri.file(home.resolve("repository")), RepositoryOptions.defaults())) {
                restoreAndCompare(repository, first, state1, work.resolve("restored-1.qcow2"));
                restoreAndCompare(repository, second, state2, work.resolve("restored-2.qcow2"));
            }
            step("Done: both snapshots restore byte for byte.");
            return 0;
        } finally {
            if (service != null) {
                service.stop();
            }
            if (keep) {
                say("Kept %s", work);
            } else {
                deleteTree(work);
            }
            out.flush();
        }
    }

    /** The n-th stop event, its result, and the disk as it was at that backup (kept as raw in {@code state}). */
    private JsonNode stopEvent(Path home, int n, Path top, Path state) throws Exception {
        dropEvent(home, "demo-" + n, top);
        JsonNode result = awaitResult(home, n);
        say("   %s", describe(result));
        QEMU.convert(top, state, "raw");
        return result;
    }

    private void restoreAndCompare(Repository repository, JsonNode result, Path expected, Path output) throws IOException {
        String id = result.get("snapshot").asText();
        new Restorer(repository).restore(RestoreRequest.of(repository.load(SnapshotId.parse(id)), output, RestoreFormat.QCOW2));
        String verdict = QEMU.compare(output, "qcow2", expected, "raw");
        say("   %s (%s) -> %s: %s", id, result.get("kind").asText(), output.getFileName(), verdict);
        if (!verdict.contains("identical")) {
            throw new IllegalStateException("restored snapshot " + id + " differs from the disk: " + verdict);
        }
    }

    private static String describe(JsonNode r) {
        if (!"ok".equals(r.path("outcome").asText())) {
            throw new IllegalStateException("backup failed: " + r.path("reason").asText());
        }
        return String.format("%s snapshot %s: read %s, stored %s, in %d ms (%s)", r.get("kind").asText(),
                r.get("snapshot").asText(), Sizes.human(r.get("bytesRead").asLong()), Sizes.human(r.get("bytesStored").asLong()),
                r.get("durationMs").asLong(), r.get("reason").asText());
    }

    private static void dropEvent(Path home, String id, Path image) throws IOException {
        Path spool = Files.createDirectories(home.resolve("spool"));
        String json = "{\"id\":\"" + id + "\",\"event\":\"stopped\",\"vm\":\"demo\",\"disks\":[{\"target\":\"vda\",\"image\":\"" + image + "\"}]}";
        Path tmp = spool.resolve("." + id + ".json.tmp");
        Files.writeString(tmp, json);
        Files.move(tmp, spool.resolve(id + ".json"), StandardCopyOption.ATOMIC_MOVE);
    }

    /** The {@code count}-th disk result (the demo VM has one disk; the VM's own results are left out). */
    private static JsonNode awaitResult(Path home, int count) throws Exception {
        Path results = home.resolve("results");
        Path deadLetters = home.resolve("dead-letter");
        Instant end = Instant.now().plus(WAIT);
        ObjectMapper json = new ObjectMapper();
        while (Instant.now().isBefore(end)) {
            List<JsonNode> found = new java.util.ArrayList<>();
            for (Path p : jsonFiles(results)) {
                JsonNode result = json.readTree(p.toFile());
                if (result.has("disk")) {
                    found.add(result);
                }
            }
            if (found.size() >= count) {
                return found.get(count - 1);
            }
            List<Path> failed = jsonFiles(deadLetters);
            if (!failed.isEmpty()) {
                throw new IllegalStateException("the event was dead-lettered: " + json.readTree(failed.get(0).toFile()).path("reason").asText());
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("no backup result within " + WAIT.toSeconds() + " s");
    }

    private static List<Path> jsonFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
    }

    private static void writeRandom(Path image, long offset, long length, long seed, Path scratch) throws IOException {
        byte[] data = new byte[(int) length];
        new Random(seed).nextBytes(data);
        Path src = Files.createTempFile(scratch, "data", ".bin");
        try {
            Files.write(src, data);
            QEMU.io(image, "qcow2", "write -s " + src + " " + offset + " " + length);
        } finally {
            Files.deleteIfExists(src);
        }
    }

    private void step(String text) {
        out.println(text);
        out.flush();
    }

    private void say(String format, Object... args) {
        out.println(String.format(format, args));
        out.flush();
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
