package dev.coldcopy.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.testing.Tools;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad events through the spool, against one running service: each is dead-lettered at once (well
 * within the first retry delay: never retried) with its one-line reason, its spool file moves to
 * failed/, no backup succeeds, and no image file changes by a single byte nor loses or gains a bitmap.
 * Some are refused by the event parser, the rest by the qemu side when the backup starts.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServiceBadEventsTest {
    private static final long MIB = 1 << 20;
    /** The first retry would come after this long: a bad event must be dead-lettered before it. */
    private static final long RETRY_DELAY_MS = 8000;

    Path dir;
    ServiceHarness service;
    Path web;
    Path raw;
    Path secret;
    Path escape;
    Path sneaky;
    Path nbdBacked;
    Path running;
    Process runningVm;

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("coldcopy-bad-events");
        service = new ServiceHarness(dir.resolve("home"))
                .set("coldcopy.retry.delay-ms", Long.toString(RETRY_DELAY_MS))
                .set("coldcopy.retry.max", "2");
        Path images = service.images;
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Path base = QemuImages.createQcow2(images.resolve("base.qcow2"), 8 * MIB);
        QemuImages.writePattern(base, 0x11, 0, MIB);
        web = images.resolve("web.qcow2");
        Tools.run(Duration.ofSeconds(30), List.of("qemu-img", "create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "qcow2", web.toString()));
        QemuImages.writePattern(web, 0x22, 2 * MIB, MIB);
        raw = images.resolve("disk.raw");
        Tools.run("qemu-img", "create", "-q", "-f", "raw", raw.toString(), "4M");
        secret = QemuImages.createQcow2(outside.resolve("secret.qcow2"), 4 * MIB);
        escape = Files.createSymbolicLink(images.resolve("escape.qcow2"), secret);
        sneaky = images.resolve("sneaky.qcow2");
        Tools.run(Duration.ofSeconds(30), List.of("qemu-img", "create", "-q", "-f", "qcow2", "-b", secret.toString(), "-F", "qcow2", sneaky.toString()));
        nbdBacked = images.resolve("nbd-backed.qcow2"); // -u: written into the header, never opened
        Tools.run(Duration.ofSeconds(30), List.of("qemu-img", "create", "-q", "-f", "qcow2", "-u", "-b", "nbd://127.0.0.1:9/x",
                "-F", "raw", nbdBacked.toString(), "4M"));
        running = QemuImages.createQcow2(images.resolve("running.qcow2"), 4 * MIB);
        QemuImages.addBitmap(running, "libvirt-cp1", false);
        service.start();

        // a good backup first: web then carries coldcopy's checkpoint, which no bad event may touch
        service.dropEvent("good", ServiceHarness.event("web", "vda", web));
        JsonNode good = service.awaitResult(1, Duration.ofSeconds(60));
        assertThat(good.get("outcome").asText()).as(good.toString()).isEqualTo("ok");
        assertThat(bitmaps(web)).contains(good.get("checkpoint").asText());

        runningVm = holdOpen(running);
    }

    @AfterAll
    void stop() throws Exception {
        try {
            if (runningVm != null) {
                runningVm.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            service.close();
            assertThat(ServiceHarness.awaitNoQemuChildren(Duration.ofSeconds(10))).isEmpty();
        } finally {
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    Stream<Arguments> badEvents() {
        return Stream.of(
                bad("malformed-json", "{\"event\":\"stopped\",\"vm\":", "event is not valid JSON"),
                bad("empty", "", "event is empty"),
                bad("not-an-object", "[\"stopped\",\"web\"]", "event must be a JSON object, not an array"),
                bad("missing-vm", "{\"event\":\"stopped\",\"disks\":[{\"target\":\"vda\",\"image\":\"%web\"}]}", "event has no 'vm'"),
                bad("vm-wrong-type", "{\"event\":\"stopped\",\"vm\":42,\"disks\":[{\"target\":\"vda\",\"image\":\"%web\"}]}",
                        "'vm' must be a string, not a number"),
                bad("vm-shell-meta", "{\"event\":\"stopped\",\"vm\":\"web;rm -rf /\",\"disks\":[{\"target\":\"vda\",\"image\":\"%web\"}]}",
                        "refused VM name 'web;rm -rf /': contains the shell metacharacter ';'"),
                bad("target-shell-meta", "{\"event\":\"stopped\",\"vm\":\"web\",\"disks\":[{\"target\":\"vda$(id)\",\"image\":\"%web\"}]}",
                        "refused disk target 'vda$(id)': contains the shell metacharacter '$'"),
                bad("no-disks", "{\"event\":\"stopped\",\"vm\":\"web\",\"disks\":[]}", "event lists no disks to back up"),
                bad("disks-not-array", "{\"event\":\"stopped\",\"vm\":\"web\",\"disks\":{\"target\":\"vda\",\"image\":\"%web\"}}",
                        "'disks' must be an array, not an object"),
                bad("disk-without-image", "{\"event\":\"stopped\",\"vm\":\"web\",\"disks\":[{\"target\":\"vda\"}]}", "disks[0] has no 'image'"),
                bad("relative-path", "{\"event\":\"stopped\",\"vm\":\"web\",\"disks\":[{\"target\":\"vda\",\"image\":\"images/web.qcow2\"}]}",
                        "image path 'images/web.qcow2' must be absolute"),
                bad("dot-dot-path", "{\"event\":\"stopped\",\"vm\":\"web\",\"disks\":[{\"target\":\"vda\",\"image\":\"%images/../images/web.qcow2\"}]}",
                        "must not contain '.' or '..'"),
                bad("outside-roots", "{\"event\":\"stopped\",\"vm\":\"web\",\"disks\":[{\"target\":\"vda\",\"image\":\"%secret\"}]}",
                        "outside the allowed roots"),
                bad("symlink-escape", "{\"event\":\"stopped\",\"vm\":\"web\",\"disks\":[{\"target\":\"vda\",\"image\":\"%escape\"}]}",
                        "(resolves to %secret): outside the allowed roots"),
                bad("backing-outside-roots", "{\"event\":\"stopped\",\"vm\":\"web\",\"disks\":[{\"target\":\"vda\",\"image\":\"%sneaky\"}]}",
                        "refused backing file '%secret' of %sneaky"),
                bad("backing-nbd", "{\"event\":\"stopped\",\"vm\":\"web\",\"disks\":[{\"target\":\"vda\",\"image\":\"%nbdbacked\"}]}",
                        "refused backing file 'nbd://127.0.0.1:9/x' of %nbdbacked: not a local file"),
                bad("missing-image", "{\"event\":\"stopped\",\"vm\":\"web\",\"disks\":[{\"target\":\"vda\",\"image\":\"%images/gone.qcow2\"}]}",
                        "image %images/gone.qcow2 does not exist"),
                bad("vm-running", "{\"event\":\"stopped\",\"vm\":\"db\",\"disks\":[{\"target\":\"vda\",\"image\":\"%running\"}]}",
                        "VM is running"),
                bad("unknown-type", "{\"event\":\"started\",\"vm\":\"web\",\"disks\":[{\"target\":\"vda\",\"image\":\"%web\"}]}",
                        "event type 'started' is not handled"),
                bad("bad-checkpoint", "{\"event\":\"stopped\",\"vm\":\"web\",\"checkpoint\":\"cp 1;x\",\"disks\":[{\"target\":\"vda\",\"image\":\"%web\"}]}",
                        "refused checkpoint name 'cp 1;x'"),
                bad("duplicate-targets", "{\"event\":\"stopped\",\"vm\":\"web\",\"disks\":[{\"target\":\"vda\",\"image\":\"%web\"},{\"target\":\"vda\",\"image\":\"%running\"}]}",
                        "disk target 'vda' appears twice"),
                bad("bad-event-id", "{\"id\":\"../../etc\",\"event\":\"stopped\",\"vm\":\"web\",\"disks\":[{\"target\":\"vda\",\"image\":\"%web\"}]}",
                        "event id '../../etc' is not allowed"));
    }

    private static Arguments bad(String name, String json, String reason) {
        return Arguments.of(name, json, reason);
    }

    /** %web, %raw ... stand for the test's paths. */
    private String paths(String text) {
        return text.replace("%images/", service.images + "/").replace("%web", web.toString()).replace("%raw", raw.toString())
                .replace("%secret", secret.toString()).replace("%escape", escape.toString())
                .replace("%sneaky", sneaky.toString()).replace("%running", running.toString())
                .replace("%nbdbacked", nbdBacked.toString());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badEvents")
    void isDeadLetteredWithItsReasonAndChangesNothing(String name, String json, String reason) throws Exception {
        Map<Path, String> before = imageState();
        long okBefore = okResults();

        Instant sent = Instant.now();
        service.dropEvent(name, paths(json));
        JsonNode dead = awaitDeadLetter("spool:" + name + ".json", Duration.ofSeconds(30));
        long tookMs = Duration.between(sent, Instant.now()).toMillis();

        String why = dead.get("reason").asText();
        assertThat(why).as("reason").contains(paths(reason)).doesNotContain("\n");
        assertThat(tookMs).as("dead-lettered without a retry (" + why + ")").isLessThan(RETRY_DELAY_MS);
        awaitFailedSpoolFile(name + ".json");
        assertThat(okResults()).as("no backup succeeded").isEqualTo(okBefore);
        assertThat(imageState()).as("images unchanged").isEqualTo(before);
        assertThat(service.exportDirectories()).as("export directories left").isEmpty();
        assertThat(ServiceHarness.qemuChildren().stream().filter(p -> !p.startsWith(runningVm.pid() + " ")))
                .as("qemu processes left").isEmpty();
    }

    /** SHA-256 of every image file and the bitmaps qemu-img reports for each qcow2 (read with -U: one is held open). */
    private Map<Path, String> imageState() throws IOException {
        Map<Path, String> state = new TreeMap<>();
        for (Path image : List.of(web, service.images.resolve("base.qcow2"), raw, secret, sneaky, running)) {
            state.put(image, QemuImages.sha256(image));
            if (!image.equals(raw)) {
                state.put(image.resolveSibling(image.getFileName() + "#bitmaps"), String.join(",", bitmaps(image)));
            }
        }
        return state;
    }

    private static List<String> bitmaps(Path image) {
        return dev.coldcopy.testing.QemuImages.bitmaps(image);
    }

    private long okResults() throws IOException {
        return service.results().stream().filter(r -> "ok".equals(r.path("outcome").asText())).count();
    }

    private JsonNode awaitDeadLetter(String source, Duration timeout) throws Exception {
        Instant end = Instant.now().plus(timeout);
        while (Instant.now().isBefore(end)) {
            for (JsonNode d : service.deadLetters()) {
                if (source.equals(d.path("source").asText())) {
                    return d;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no dead letter from " + source + "; dead letters " + service.deadLetters() + "; results " + service.results());
    }

    private void awaitFailedSpoolFile(String name) throws Exception {
        Instant end = Instant.now().plus(Duration.ofSeconds(5));
        while (Instant.now().isBefore(end)) {
            if (service.failedSpoolFiles().stream().anyMatch(p -> p.getFileName().toString().equals(name))) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError(name + " not in " + service.spool().resolve("failed") + ": " + service.failedSpoolFiles());
    }

    /**
     * A running VM's stand-in: qemu-io holding the image open read-write (it takes qemu's write lock),
     * idle on its open stdin. Only reads, so the test's hashes see no change of its own making.
     */
    private static Process holdOpen(Path image) throws IOException {
        Process p = new ProcessBuilder("qemu-io", "-f", "qcow2", image.toString()).redirectErrorStream(true).start();
        OutputStream in = p.getOutputStream();
        in.write("read 0 4096\n".getBytes(StandardCharsets.UTF_8));
        in.flush();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder seen = new StringBuilder();
        int c;
        while ((c = out.read()) >= 0) {
            seen.append((char) c);
            if (seen.indexOf("read 4096/4096") >= 0) {
                return p;
            }
        }
        p.destroyForcibly();
        throw new IllegalStateException("qemu-io did not open " + image + ": " + seen);
    }
}
