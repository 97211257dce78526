package dev.coldcopy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.testing.Tools;
import dev.coldcopy.service.ServiceHarness;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One disk committed, another refused: the committed one is still reported (its snapshot exists), the other fails the run. */
class PartlyFailedBackupTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;
    Path images;
    Path good;
    Path refused;
    String repo;

    @BeforeEach
    void setUp() throws Exception {
        images = Files.createDirectories(dir.resolve("images"));
        good = QemuImages.createQcow2(images.resolve("good.qcow2"), 64 * MIB);
        ServiceHarness.writeRandom(good, 0, (int) (4 * MIB), 1, dir);
        refused = images.resolve("refused.qcow2");
        Tools.run("qemu-img", "create", "-q", "-f", "qcow2", "-u", "-b", "nbd://127.0.0.1:1/x", "-F", "raw", refused.toString(), "64M");
        repo = "file:" + dir.resolve("repo");
    }

    @Test
    void theCommittedDiskIsPrintedAndTheRefusedOneFailsTheRun() {
        CliRun run = CliRun.coldcopy("backup", "--repo", repo, "--vm", "web", "--disk", "vda=" + good, "--disk", "vdb=" + refused,
                "--allow-root", images.toString(), "-Dcoldcopy.home=" + dir.resolve("home"), "-Dcoldcopy.retry.max=0",
                "-Dcoldcopy.repository.fsync=false");

        assertThat(run.exit()).as(run.out()).isEqualTo(1);
        assertThat(run.out()).as(run.err()).matches("web/vda \\S+ full .*\\R");
        assertThat(run.err()).startsWith("coldcopy backup: ").contains("vdb").contains("not a local file")
                .doesNotContain("web/vda ");
        assertThat(run.err().strip().lines()).hasSize(1);

        Path restored = dir.resolve("vda-restored.qcow2");
        CliRun restore = CliRun.coldcopy("restore", "--repo", repo, "--vm", "web", "--disk", "vda", "--snapshot",
                run.out().split(" ")[1], "--output", restored.toString());
        assertThat(restore.exit()).as(restore.err()).isZero();
        assertThat(Tools.run(Duration.ofMinutes(2), List.of("qemu-img", "compare", restored.toString(), good.toString())))
                .contains("Images are identical");
        CliRun none = CliRun.coldcopy("restore", "--repo", repo, "--vm", "web", "--disk", "vdb", "--output",
                dir.resolve("vdb.qcow2").toString());
        assertThat(none.exit()).as("no snapshot of the refused disk").isEqualTo(1);
    }
}
