package dev.coldcopy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.testing.Tools;
import dev.coldcopy.service.ServiceHarness;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A delta ({@code --checkpoint} of a checkpoint other than coldcopy's latest for the disk) is a side branch:
 * the disk's next normal backup must still be an incremental from the latest full/incremental's checkpoint.
 */
class DeltaKeepsIncrementalBaseTest {
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

    CliRun backup(String... extra) {
        List<String> args = new ArrayList<>(List.of("backup", "--repo", repo, "--vm", "web", "--disk", "vda=" + disk,
                "--allow-root", images.toString(), "-Dcoldcopy.home=" + dir.resolve("home"), "-Dcoldcopy.retry.max=0",
                "-Dcoldcopy.repository.fsync=false"));
        args.addAll(List.of(extra));
        CliRun run = CliRun.coldcopy(args.toArray(String[]::new));
        assertThat(run.exit()).as(run.err()).isZero();
        return run;
    }

    void assertRestoresTo(Path expected, String snapshot, String... onto) {
        Path restored = dir.resolve("restored-" + snapshot + ".qcow2");
        List<String> args = new ArrayList<>(List.of("restore", "--repo", repo, "--vm", "web", "--disk", "vda",
                "--snapshot", snapshot, "--output", restored.toString()));
        args.addAll(List.of(onto));
        CliRun restore = CliRun.coldcopy(args.toArray(String[]::new));
        assertThat(restore.exit()).as(restore.err()).isZero();
        assertThat(Tools.run(Duration.ofMinutes(2), List.of("qemu-img", "compare", restored.toString(), expected.toString())))
                .contains("Images are identical");
    }

    static String snapshotId(CliRun run) {
        return run.out().strip().split(" ")[1];
    }

    @Test
    void theNextBackupAfterADeltaIsIncrementalAndBothRestore() throws Exception {
        assertThat(backup().out()).matches("web/vda \\S+ full .*\\R\\S+ \\S+ vm .*\\R");
        Tools.run("qemu-img", "bitmap", "--add", disk.toString(), "libvirt-cp1");
        Path atCheckpoint = Files.copy(disk, dir.resolve("at-cp1.qcow2"));

        ServiceHarness.writeRandom(disk, 8 * MIB, (int) MIB, 2, dir);
        CliRun delta = backup("--checkpoint", "libvirt-cp1");
        assertThat(delta.out()).matches("web/vda \\S+ delta delta from libvirt-cp1 \\(a checkpoint coldcopy did not create\\).*\\R\\S+ \\S+ vm .*\\R");
        Path atDelta = Files.copy(disk, dir.resolve("at-delta.qcow2"));

        ServiceHarness.writeRandom(disk, 16 * MIB, (int) MIB, 3, dir);
        CliRun next = backup();
        assertThat(next.out()).as(next.err()).matches("web/vda \\S+ incremental .*\\R\\S+ \\S+ vm .*\\R");

        assertRestoresTo(disk, "latest");
        assertRestoresTo(atDelta, snapshotId(delta), "--onto", atCheckpoint.toString());
        // the foreign bitmap is never coldcopy's to remove
        assertThat(BackupInterruptTest.bitmaps(disk)).contains("libvirt-cp1");
    }
}
