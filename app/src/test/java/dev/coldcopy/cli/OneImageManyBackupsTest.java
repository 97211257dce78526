package dev.coldcopy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.testing.Tools;
import dev.coldcopy.service.ServiceHarness;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One image met more than once: by two backups at the same time, under two VM names, under two targets. */
class OneImageManyBackupsTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;
    Path images;
    Path disk;
    String repo;

    @BeforeEach
    void setUp() throws Exception {
        images = Files.createDirectories(dir.resolve("images"));
        disk = QemuImages.createQcow2(images.resolve("web.qcow2"), 64 * MIB);
        ServiceHarness.writeRandom(disk, 0, (int) (4 * MIB), 1, dir);
        repo = "file:" + dir.resolve("repo");
    }

    CliRun backup(String vm, String... disks) {
        List<String> args = new ArrayList<>(List.of("backup", "--repo", repo, "--vm", vm, "--allow-root", images.toString(),
                "-Dcoldcopy.home=" + dir.resolve("home"), "-Dcoldcopy.retry.max=0", // a failure must show, not be retried away
                "-Dcoldcopy.repository.compression-level=19", "-Dcoldcopy.repository.fsync=false"));
        for (String d : disks) {
            args.addAll(List.of("--disk", d));
        }
        return CliRun.coldcopy(args.toArray(String[]::new));
    }

    List<JsonNode> snapshots() throws Exception {
        CliRun list = CliRun.coldcopy("snapshots", "--repo", repo, "--json");
        assertThat(list.exit()).as(list.err()).isZero();
        return StreamSupport.stream(new ObjectMapper().readTree(list.out()).spliterator(), false).toList();
    }

    List<String> coldcopyBitmaps() {
        return BackupInterruptTest.bitmaps(disk).stream().filter(b -> b.startsWith("coldcopy.")).toList();
    }

    void assertLatestRestoresIdentical(String vm) {
        Path restored = dir.resolve(vm + "-restored.qcow2");
        CliRun restore = CliRun.coldcopy("restore", "--repo", repo, "--vm", vm, "--disk", "vda", "--output", restored.toString());
        assertThat(restore.exit()).as(restore.err()).isZero();
        assertThat(Tools.run(Duration.ofMinutes(2), List.of("qemu-img", "compare", restored.toString(), disk.toString())))
                .contains("Images are identical");
    }

    @Test
    void twoBackupsOfOneDiskAtOnceTakeTurns() throws Exception {
        assertThat(backup("web", "vda=" + disk).exit()).isZero();
        ServiceHarness.writeRandom(disk, 8 * MIB, (int) (32 * MIB), 2, dir); // seconds of zstd -19: the first still reads

        CompletableFuture<CliRun> one = CompletableFuture.supplyAsync(() -> backup("web", "vda=" + disk));
        CompletableFuture<CliRun> two = CompletableFuture.supplyAsync(() -> backup("web", "vda=" + disk));
        for (CliRun run : List.of(one.get(), two.get())) {
            assertThat(run.exit()).as(run.err()).isZero();
            assertThat(run.out()).matches("web/vda \\S+ incremental .*\\R\\S+ \\S+ vm .*\\R");
        }
        // the one that waited planned from what the other committed: one chain, nothing left over
        List<JsonNode> s = snapshots();
        assertThat(s).hasSize(3);
        assertThat(s.get(1).path("checkpointUsed").asText()).isEqualTo(s.get(0).path("checkpointCreated").asText());
        assertThat(s.get(2).path("checkpointUsed").asText()).isEqualTo(s.get(1).path("checkpointCreated").asText());
        assertThat(s.get(2).path("parent").asText()).isEqualTo(s.get(1).path("id").asText());
        assertThat(coldcopyBitmaps()).containsExactly(s.get(2).path("checkpointCreated").asText());
        assertLatestRestoresIdentical("web");
    }

    @Test
    void oneImageUnderTwoVmNamesKeepsBothChains() throws Exception {
        CliRun a1 = backup("a", "vda=" + disk);
        assertThat(a1.out()).as(a1.err()).matches("a/vda \\S+ full .*\\R\\S+ \\S+ vm .*\\R");
        CliRun b1 = backup("vm1", "vda=" + disk);
        assertThat(b1.out()).as(b1.err()).matches("vm1/vda \\S+ full .*\\R\\S+ \\S+ vm .*\\R");
        assertThat(coldcopyBitmaps()).hasSize(2); // a's checkpoint survived vm1's backup

        ServiceHarness.writeRandom(disk, 8 * MIB, (int) MIB, 3, dir);
        CliRun a2 = backup("a", "vda=" + disk);
        assertThat(a2.out()).as(a2.err()).matches("a/vda \\S+ incremental .*\\R\\S+ \\S+ vm .*\\R");
        ServiceHarness.writeRandom(disk, 16 * MIB, (int) MIB, 4, dir);
        CliRun b2 = backup("vm1", "vda=" + disk);
        assertThat(b2.out()).as(b2.err()).matches("vm1/vda \\S+ incremental .*\\R\\S+ \\S+ vm .*\\R");

        // each name keeps exactly its latest checkpoint; the older ones are gone
        List<String> latest = snapshots().stream().filter(n -> n.path("kind").asText().equals("incremental"))
                .map(n -> n.path("checkpointCreated").asText()).sorted().toList();
        assertThat(coldcopyBitmaps()).containsExactlyElementsOf(latest);
        assertLatestRestoresIdentical("vm1");
        ServiceHarness.writeRandom(disk, 24 * MIB, (int) MIB, 5, dir);
        assertThat(backup("a", "vda=" + disk).out()).matches("a/vda \\S+ incremental .*\\R\\S+ \\S+ vm .*\\R");
        assertLatestRestoresIdentical("a");
    }

    @Test
    void oneImageUnderTwoTargetsIsRefusedBeforeAnythingHappens() throws Exception {
        Path link = Files.createSymbolicLink(images.resolve("alias.qcow2"), disk);
        List<String> before = BackupInterruptTest.bitmaps(disk);
        CliRun twice = backup("web", "vda=" + disk, "vdb=" + link);
        assertThat(twice.exit()).isEqualTo(1);
        assertThat(twice.err().strip()).isEqualTo("coldcopy backup: disks 'vda' and 'vdb' are the same image " + disk.toRealPath()
                + " (" + disk + ", " + link + "): a disk can be backed up once per event");
        assertThat(BackupInterruptTest.bitmaps(disk)).isEqualTo(before);
        assertThat(Files.exists(dir.resolve("repo"))).isFalse();
    }

    @Test
    void oneImageUnderTwoHardLinksIsRefusedBeforeAnythingHappens() throws Exception {
        Path link = Files.createLink(images.resolve("hardlink.qcow2"), disk);
        List<String> before = BackupInterruptTest.bitmaps(disk);
        CliRun twice = backup("web", "vda=" + disk, "vdb=" + link);
        assertThat(twice.exit()).isEqualTo(1);
        assertThat(twice.err().strip()).isEqualTo("coldcopy backup: disks 'vda' and 'vdb' are the same image: " + disk + " and "
                + link + " are hard links to one file: a disk can be backed up once per event");
        assertThat(BackupInterruptTest.bitmaps(disk)).isEqualTo(before);
        assertThat(Files.exists(dir.resolve("repo"))).isFalse();
    }

    @Test
    void twoBackupsThroughTwoHardLinksAtOnceTakeTurns() throws Exception {
        Path link = Files.createLink(images.resolve("hardlink.qcow2"), disk);
        assertThat(backup("web", "vda=" + disk).exit()).isZero();
        ServiceHarness.writeRandom(disk, 8 * MIB, (int) (32 * MIB), 2, dir); // seconds of zstd -19: the first still reads

        CompletableFuture<CliRun> one = CompletableFuture.supplyAsync(() -> backup("web", "vda=" + disk));
        CompletableFuture<CliRun> two = CompletableFuture.supplyAsync(() -> backup("web", "vda=" + link));
        for (CliRun run : List.of(one.get(), two.get())) {
            assertThat(run.exit()).as(run.err()).isZero();
            assertThat(run.out()).matches("web/vda \\S+ incremental .*\\R\\S+ \\S+ vm .*\\R");
        }
        List<JsonNode> s = snapshots();
        assertThat(s).hasSize(3);
        assertThat(s.get(1).path("checkpointUsed").asText()).isEqualTo(s.get(0).path("checkpointCreated").asText());
        assertThat(s.get(2).path("checkpointUsed").asText()).isEqualTo(s.get(1).path("checkpointCreated").asText());
        assertThat(coldcopyBitmaps()).containsExactly(s.get(2).path("checkpointCreated").asText());
        assertLatestRestoresIdentical("web");
    }
}
