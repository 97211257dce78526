package dev.coldcopy.libvirt;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.testing.Tools;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.restore.RestoreFormat;
import dev.coldcopy.restore.RestoreRequest;
import dev.coldcopy.restore.Restorer;
import dev.coldcopy.service.ServiceHarness;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The closest thing to a user's host: Debian's libvirtd running a real (TCG, OS-less) VM, coldcopy's
 * libvirt hook installed, and the service consuming the events the hook writes when the VM stops.
 * Guest writes go through the running VM's virtio disk (the monitor's qemu-io), so qemu's dirty bitmaps,
 * coldcopy's and libvirt's alike, record them as they would a guest's.
 *
 * <p>Needs root and libvirt (bin/setup --test installs it); skipped elsewhere, except in CI, where a
 * missing prerequisite fails the run instead of hiding it.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class LibvirtVmTest {
    private static final long MIB = 1 << 20;
    private static final long KIB = 1 << 10;
    private static final Duration WAIT = Duration.ofSeconds(90);
    /** The hook names its events {@code yyyyMMddTHHmmssZ-<12 hex>}. */
    private static final String HOOK_EVENT_ID = "\\d{8}T\\d{6}Z-[0-9a-f]{12}";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static LibvirtHost host;

    @TempDir
    Path dir;
    ServiceHarness service;
    TestVm vm;

    @BeforeAll
    static void libvirtUp() {
        host = LibvirtHost.upOrSkip();
    }

    @AfterAll
    static void libvirtDown() {
        if (host != null) {
            host.close();
        }
    }

    @BeforeEach
    void startService() throws Exception {
        service = new ServiceHarness(dir.resolve("home"));
        Path disk = QemuImages.createQcow2(service.images.resolve("vm.qcow2"), 64 * MIB);
        ServiceHarness.writeRandom(disk, 0, (int) (2 * MIB), 1, dir);
        QemuImages.writePattern(disk, 0x5a, 16 * MIB, 4 * MIB);
        vm = TestVm.define(disk, dir);
        Files.createDirectories(service.spool());
        host.spool(service.spool());
        service.start();
    }

    @AfterEach
    void cleanUp() {
        try {
            if (vm != null) {
                vm.close();
            }
        } finally {
            service.close();
        }
    }

    @Test
    void hookEventsGiveFullThenIncrementalOfTheGuestWrites() throws Exception {
        vm.start();
        vm.destroy();
        JsonNode first = awaitResult(1);
        assertOk(first, "full");
        assertThat(first.get("eventId").asText()).matches(HOOK_EVENT_ID);
        assertThat(first.get("vm").asText()).isEqualTo(vm.name);
        Path state1 = ServiceHarness.snapshotOfDisk(vm.image, dir.resolve("state1.raw"));

        vm.start();
        long written = guestWrites(List.of(3 * MIB, 9 * MIB + 64 * KIB, 17 * MIB, 40 * MIB + 512 * KIB), 256 * KIB, 7);
        vm.destroy();
        JsonNode second = awaitResult(2);
        assertOk(second, "incremental");
        assertThat(second.get("eventId").asText()).matches(HOOK_EVENT_ID);
        // only what the guest wrote is read, and (random data) stored
        assertThat(second.get("bytesRead").asLong()).isEqualTo(written);
        assertThat(second.get("bytesStored").asLong()).isBetween(written * 9 / 10, written * 11 / 10);
        Path state2 = ServiceHarness.snapshotOfDisk(vm.image, dir.resolve("state2.raw"));
        assertThat(QemuImages.sha256(state2)).isNotEqualTo(QemuImages.sha256(state1));

        try (Repository repository = service.openRepository()) {
            SnapshotManifest full = repository.load(SnapshotId.parse(first.get("snapshot").asText()));
            SnapshotManifest incremental = repository.load(SnapshotId.parse(second.get("snapshot").asText()));
            ServiceHarness.assertRestoresTo(repository, incremental, state2, dir.resolve("restored2.qcow2"));
            ServiceHarness.assertRestoresTo(repository, full, state1, dir.resolve("restored1.qcow2"));
        }
        assertNoDeadLetter();
        // the checkpoint rotated: the incremental's bitmap stays on the disk, the full's is gone
        assertThat(bitmapFlags(vm.image, second.get("checkpoint").asText())).contains(List.of("auto"));
        assertThat(bitmapFlags(vm.image, first.get("checkpoint").asText())).isEmpty();
    }

    @Test
    void libvirtCheckpointGivesDeltaThatRestoresOntoTheDiskAtTheCheckpoint() throws Exception {
        vm.start();
        guestWrites(List.of(8 * MIB), MIB, 11);            // before the checkpoint: not in the delta
        vm.checkpoint("cp1");
        vm.destroy();
        // the hook's event: coldcopy's own first backup, which adds coldcopy's checkpoint beside cp1
        assertOk(awaitResult(1), "full");
        Path base = ServiceHarness.snapshotOfDisk(vm.image, dir.resolve("at-cp1.raw"));

        vm.start();
        long written = guestWrites(List.of(2 * MIB, 8 * MIB + 128 * KIB, 30 * MIB, 63 * MIB), 192 * KIB, 12);
        vm.destroy();
        assertOk(awaitResult(2), "incremental");   // the hook's event again

        ObjectNode event = JSON.createObjectNode().put("id", "since-cp1").put("event", "stopped")
                .put("vm", vm.name).put("checkpoint", "cp1");
        event.putArray("disks").addObject().put("target", "vda").put("image", vm.image.toString());
        service.dropEvent("since-cp1", JSON.writeValueAsString(event));
        JsonNode delta = awaitResult(3);
        assertThat(delta.get("eventId").asText()).isEqualTo("since-cp1");
        assertOk(delta, "delta");
        assertThat(delta.get("reason").asText()).contains("cp1");
        assertThat(delta.get("bytesRead").asLong()).isEqualTo(written);   // exactly the writes since cp1

        Path now = ServiceHarness.snapshotOfDisk(vm.image, dir.resolve("now.raw"));
        assertThat(identical(base, now)).as("the writes since cp1 changed the disk").isFalse();
        Path restored = dir.resolve("restored.qcow2");
        try (Repository repository = service.openRepository()) {
            SnapshotManifest manifest = repository.load(SnapshotId.parse(delta.get("snapshot").asText()));
            new Restorer(repository).restore(new RestoreRequest(manifest, restored, RestoreFormat.QCOW2, Optional.of(base)));
        }
        assertThat(identical(restored, now)).as("delta restored onto the disk at cp1 = the disk now").isTrue();

        // libvirt's checkpoint is untouched: still listed, its bitmap still recording and clean
        assertThat(vm.checkpoints()).containsExactly("cp1");
        assertThat(bitmapFlags(vm.image, "cp1")).contains(List.of("auto"));
        assertNoDeadLetter();
    }

    /**
     * The n-th result (1-based, in time order) for this test's VM. Only ours: libvirtd may be shared, and
     * while the hook is installed every VM that stops sends its event to this service (refused by the
     * allowed roots unless its image is under this test's home).
     */
    private JsonNode awaitResult(int n) throws Exception {
        return service.awaitResultOf(vm.name, n, service::results, WAIT);
    }

    private void assertNoDeadLetter() throws IOException {
        assertThat(service.deadLetters()).filteredOn(d -> d.toString().contains(vm.name)).isEmpty();
    }

    /** Random data written by the running guest at each offset; returns the bytes written. */
    private long guestWrites(List<Long> offsets, long length, long seed) throws IOException {
        Random random = new Random(seed);
        long total = 0;
        for (long offset : offsets) {
            byte[] data = new byte[(int) length];
            random.nextBytes(data);
            Path source = Files.write(dir.resolve("guest-" + seed + "-" + offset + ".bin"), data);
            vm.write(source, offset, length);
            total += length;
        }
        return total;
    }

    private static void assertOk(JsonNode result, String kind) {
        assertThat(result.get("outcome").asText()).as("result %s", result).isEqualTo("ok");
        assertThat(result.get("kind").asText()).as("result %s", result).isEqualTo(kind);
    }

    /** The flags of the named bitmap in the image's top layer, or empty when it has no such bitmap. */
    private static Optional<List<String>> bitmapFlags(Path image, String name) throws IOException {
        JsonNode info = JSON.readTree(Tools.run("qemu-img", "info", "--output=json", image.toString()));
        for (JsonNode bitmap : info.path("format-specific").path("data").path("bitmaps")) {
            if (bitmap.get("name").asText().equals(name)) {
                return Optional.of(JSON.convertValue(bitmap.get("flags"), JSON.getTypeFactory()
                        .constructCollectionType(List.class, String.class)));
            }
        }
        return Optional.empty();
    }

    /** {@code qemu-img compare}: exit 0 identical, 1 different, anything else an error. */
    private boolean identical(Path a, Path b) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "compare", ".txt");
        Process p = new ProcessBuilder("qemu-img", "compare", a.toString(), b.toString())
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException("qemu-img compare timed out");
        }
        if (p.exitValue() > 1) {
            throw new IllegalStateException("qemu-img compare failed (" + p.exitValue() + "): " + Files.readString(out).strip());
        }
        return p.exitValue() == 0;
    }
}
