package dev.coldcopy.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.testing.Tools;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.restore.RestoreFormat;
import dev.coldcopy.restore.RestoreRequest;
import dev.coldcopy.restore.Restorer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.camel.main.Main;

/**
 * The real service (Camel Main, the shipped YAML routes) on a temporary home directory, with helpers
 * to drop events, wait for results and restore snapshots. Every test gets a fresh one.
 */
public final class ServiceHarness implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    public final Path home;
    public final Path images;
    public final int httpPort;
    private final Map<String, String> settings = new HashMap<>();
    private RepositoryUri repositoryUri;
    private RepositoryOptions repositoryOptions = RepositoryOptions.defaults();
    private Main main;
    private Optional<Path> configDir = Optional.empty();
    private final List<String> profiles = new ArrayList<>();
    private final Map<String, Object> beans = new HashMap<>();

    public ServiceHarness(Path home) throws IOException {
        this.home = home;
        this.images = Files.createDirectories(home.resolve("images"));
        this.httpPort = Tools.freePort();
        settings.put("coldcopy.home", home.toString());
        settings.put("coldcopy.spool.poll-ms", "200");
        settings.put("coldcopy.retry.delay-ms", "200");
        settings.put("camel.server.port", Integer.toString(httpPort));
        settings.put("camel.management.port", Integer.toString(httpPort));
    }

    public ServiceHarness set(String key, String value) {
        settings.put(key, value);
        return this;
    }

    /**
     * Points the service at this repository; {@link #openRepository()} then opens it with these options
     * (credentials, keys), which the test also passes to the service as settings.
     */
    public ServiceHarness repository(RepositoryUri uri, RepositoryOptions options) {
        settings.put("coldcopy.repository", uri.raw());
        this.repositoryUri = uri;
        this.repositoryOptions = options;
        return this;
    }

    /** A configuration directory (application.properties, routes/) as with {@code run --config DIR}. */
    public ServiceHarness configDir(Path dir) {
        this.configDir = Optional.of(dir);
        return this;
    }

    /** An embedded profile, as with {@code run --profile NAME} (the last named wins). */
    public ServiceHarness profile(String name) {
        profiles.add(name);
        return this;
    }

    /** A bean for a route of the test's own. */
    public ServiceHarness bind(String name, Object bean) {
        beans.put(name, bean);
        return this;
    }

    public org.apache.camel.CamelContext camel() {
        return main.getCamelContext();
    }

    public ServiceHarness start() {
        main = new ColdcopyMain(configDir, profiles, settings).build();
        beans.forEach(main::bind);
        try {
            main.start();
        } catch (Exception e) {
            throw new IllegalStateException("service did not start: " + e.getMessage(), e);
        }
        return this;
    }

    public void stop() {
        if (main != null) {
            try {
                main.stop();
            } catch (Exception e) {
                // stopping is best effort in tests
            }
            main = null;
        }
    }

    @Override
    public void close() {
        stop();
    }

    public Path spool() {
        return home.resolve("spool");
    }

    /** Writes the event atomically into the spool, as the libvirt hook does. */
    public void dropEvent(String name, String json) throws IOException {
        Files.createDirectories(spool());
        Path tmp = spool().resolve("." + name + ".json.tmp");
        Files.writeString(tmp, json);
        Files.move(tmp, spool().resolve(name + ".json"), StandardCopyOption.ATOMIC_MOVE);
    }

    public static String event(String vm, String target, Path image) {
        return "{\"event\":\"stopped\",\"vm\":\"" + vm + "\",\"disks\":[{\"target\":\"" + target
                + "\",\"image\":\"" + image + "\"}]}";
    }

    /** the per-disk backup results (prune and VM results, in the same place, are left out) */
    public List<JsonNode> results() throws IOException {
        return jsonFiles(home.resolve("results")).stream().filter(n -> !n.has("type")).toList();
    }

    /** Where results are read from: {@link #results()} (disks) or {@link #vmResults()}. */
    public interface ResultSource {
        List<JsonNode> read() throws IOException;
    }

    /**
     * The n-th result (1-based, oldest first) of one VM from {@code source}, waiting up to {@code wait}: only that
     * VM's count, so a shared libvirtd's other VMs stopping meanwhile do not disturb a test.
     */
    public JsonNode awaitResultOf(String vm, int n, ResultSource source, Duration wait) throws Exception {
        Instant end = Instant.now().plus(wait);
        List<JsonNode> ours = List.of();
        while (Instant.now().isBefore(end)) {
            ours = source.read().stream().filter(r -> r.get("vm").asText().equals(vm)).toList();
            if (ours.size() >= n) {
                return ours.get(n - 1);
            }
            Thread.sleep(100);
        }
        throw new AssertionError("expected " + n + " result(s) for " + vm + " within " + wait + "; have " + ours
                + "; dead letters " + deadLetters());
    }

    /** the results of whole VMs ({@code "type":"vm"}), one per event, oldest first */
    public List<JsonNode> vmResults() throws IOException {
        return jsonFiles(home.resolve("results")).stream().filter(n -> n.path("type").asText().equals("vm")).toList();
    }

    /** the results of scheduled prunes ({@code "type":"prune"}), oldest first */
    public List<JsonNode> pruneResults() throws IOException {
        return jsonFiles(home.resolve("results")).stream().filter(n -> n.path("type").asText().equals("prune")).toList();
    }

    public List<JsonNode> deadLetters() throws IOException {
        return jsonFiles(home.resolve("dead-letter"));
    }

    private static List<JsonNode> jsonFiles(Path dir) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                String text = Files.readString(f, StandardCharsets.UTF_8);
                try {
                    JsonNode node = JSON.readTree(text);
                    if (node != null && node.isObject()) {
                        out.add(node);
                    }
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    // still being written: not there yet
                }
            }
        }
        return out;
    }

    /** Waits until there are {@code count} results and returns the newest. */
    public JsonNode awaitResult(int count, Duration timeout) throws Exception {
        Instant end = Instant.now().plus(timeout);
        while (Instant.now().isBefore(end)) {
            List<JsonNode> found = results();
            if (found.size() >= count) {
                return found.get(found.size() - 1);
            }
            Thread.sleep(100);
        }
        throw new AssertionError("expected " + count + " result(s) within " + timeout + "; results " + results()
                + "; dead letters " + deadLetters());
    }

    public JsonNode awaitDeadLetter(int count, Duration timeout) throws Exception {
        return awaitFiles(home.resolve("dead-letter"), count, timeout);
    }

    private JsonNode awaitFiles(Path dir, int count, Duration timeout) throws Exception {
        Instant end = Instant.now().plus(timeout);
        while (Instant.now().isBefore(end)) {
            List<JsonNode> found = jsonFiles(dir);
            if (found.size() >= count) {
                return found.get(found.size() - 1);
            }
            Thread.sleep(100);
        }
        throw new AssertionError("expected " + count + " file(s) in " + dir + " within " + timeout
                + "; results " + results() + "; dead letters " + deadLetters());
    }

    public Repository openRepository() throws IOException {
        RepositoryUri uri = repositoryUri != null ? repositoryUri : RepositoryUri.file(home.resolve("repository"));
        return Repository.open(uri, repositoryOptions);
    }

    /** POSTs the body to /events as JSON; returns the status code and the response body. */
    public HttpResponse<String> postEvent(String json) throws IOException, InterruptedException {
        return postEvent(json, "application/json");
    }

    public HttpResponse<String> postEvent(String json, String contentType) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/events"))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(json))
                .build();
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** GET on the service's HTTP port. */
    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Waits until GET path answers with this status; returns that answer (or the last one). */
    public HttpResponse<String> awaitStatus(String path, int status, Duration timeout) throws Exception {
        Instant end = Instant.now().plus(timeout);
        HttpResponse<String> last = get(path);
        while (last.statusCode() != status && Instant.now().isBefore(end)) {
            Thread.sleep(100);
            last = get(path);
        }
        return last;
    }

    /** The spool files that failed (moved to failed/). */
    public List<Path> failedSpoolFiles() throws IOException {
        Path failed = spool().resolve("failed");
        if (!Files.isDirectory(failed)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(failed)) {
            return files.sorted().toList();
        }
    }

    /** The export directories (sockets, pid files, overlays) in the work directory right now. */
    public List<Path> exportDirectories() throws IOException {
        Path exports = home.resolve("run").resolve("exports");
        if (!Files.isDirectory(exports)) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(exports)) {
            return dirs.sorted().toList();
        }
    }

    /** Live qemu processes (qemu-nbd, qemu-storage-daemon, qemu-img, qemu-io) started by this JVM. */
    public static List<String> qemuChildren() {
        // by program name: coldcopy's watchdog (a java process) names the qemu programs in its arguments
        return ProcessHandle.current().descendants()
                .filter(ProcessHandle::isAlive)
                .filter(p -> p.info().command().map(c -> Path.of(c).getFileName().toString().startsWith("qemu")).orElse(false))
                .map(p -> p.pid() + " " + p.info().commandLine().orElse(p.info().command().orElse("?")))
                .toList();
    }

    /** Waits until no qemu child of this JVM is left (stopping one takes a moment); returns what is left. */
    public static List<String> awaitNoQemuChildren(Duration timeout) throws InterruptedException {
        Instant end = Instant.now().plus(timeout);
        List<String> left = qemuChildren();
        while (!left.isEmpty() && Instant.now().isBefore(end)) {
            Thread.sleep(100);
            left = qemuChildren();
        }
        return left;
    }

    /** Restores the snapshot to a fresh file and asserts qemu-img compare calls it identical to {@code expected}. */
    public static void assertRestoresTo(Repository repository, SnapshotManifest snapshot, Path expected, Path output) throws IOException {
        new Restorer(repository).restore(RestoreRequest.of(snapshot, output, RestoreFormat.QCOW2));
        String compare = Tools.run(Duration.ofMinutes(2), List.of("qemu-img", "compare", "-f", "qcow2", "-F", "raw", output.toString(), expected.toString()));
        assertThat(compare).contains("Images are identical");
    }

    /** The disk's guest-visible content now, as a raw file. */
    public static Path snapshotOfDisk(Path image, Path raw) {
        return QemuImages.convertToRaw(image, raw);
    }

    /** Random bytes at the offset (incompressible: what the repository stores is what was written). */
    public static void writeRandom(Path qcow2, long offset, int length, long seed, Path scratch) throws IOException {
        byte[] data = new byte[length];
        new Random(seed).nextBytes(data);
        Path src = Files.createTempFile(scratch, "random", ".bin");
        Files.write(src, data);
        QemuImages.io(qcow2, "write -s " + src + " " + offset + " " + length);
        Files.delete(src);
    }
}
