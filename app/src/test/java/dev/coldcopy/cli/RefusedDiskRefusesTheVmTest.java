package dev.coldcopy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.testing.Tools;
import dev.coldcopy.service.ServiceHarness;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A disk refused for its backing file, its place or its absence refuses the whole VM before anything is touched:
 * no disk is backed up, no checkpoint added, one line on stderr (no stack trace), exit status 1.
 */
class RefusedDiskRefusesTheVmTest {
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
    void aRefusedBackingFileRefusesEveryDisk() {
        CliRun run = CliRun.coldcopy("backup", "--repo", repo, "--vm", "web", "--disk", "vda=" + good, "--disk", "vdb=" + refused,
                "--allow-root", images.toString(), "-Dcoldcopy.home=" + dir.resolve("home"), "-Dcoldcopy.retry.max=0",
                "-Dcoldcopy.repository.fsync=false");

        assertThat(run.exit()).as(run.out()).isEqualTo(1);
        assertThat(run.out()).isEmpty();
        assertThat(run.err().strip()).startsWith("coldcopy backup: web refused whole (nothing was backed up): disk vdb: ")
                .contains("not a local file");
        assertThat(run.err().strip().lines()).hasSize(1);
        assertThat(QemuImages.bitmaps(good)).as("no checkpoint added to the good disk").isEmpty();
        CliRun none = CliRun.coldcopy("restore", "--repo", repo, "--vm", "web", "--disk", "vda", "--output",
                dir.resolve("vda.qcow2").toString());
        assertThat(none.exit()).as("no snapshot of the good disk either").isEqualTo(1);
    }

    @Test
    void aMissingImageIsOneLineOnStderrWithoutAStackTrace() throws Exception {
        CliRun run = ColdcopyProcess.run(dir.resolve("process"), Duration.ofMinutes(2), Map.of(), "backup", "--repo", repo,
                "--vm", "web", "--disk", "vda=" + good, "--disk", "vdb=" + images.resolve("gone.qcow2"), "--allow-root",
                images.toString(), "-Dcoldcopy.home=" + dir.resolve("home"), "-Dcoldcopy.repository.fsync=false");
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err()).contains("coldcopy backup: web refused whole (nothing was backed up): disk vdb: image "
                + images.resolve("gone.qcow2") + " does not exist").doesNotContain("Stacktrace").doesNotContain("\tat ")
                .doesNotContain("DefaultErrorHandler");
        assertThat(QemuImages.bitmaps(good)).isEmpty();
    }
}
