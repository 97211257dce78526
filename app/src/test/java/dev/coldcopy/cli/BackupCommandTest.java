package dev.coldcopy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.testing.QemuImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The README's first backup, as a user types it, and what the command says when an image is refused. */
class BackupCommandTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    @Timeout(120)
    void theReadmeFirstBackupWorksAsWrittenAndWarnsAboutNoDefaultRoot() throws Exception {
        // README: qemu-img create -f qcow2 /tmp/test.qcow2 64M; coldcopy backup --repo file:/tmp/backups
        //         --vm test --disk vda=/tmp/test.qcow2 --allow-root /tmp   (here under the test's own dir)
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        Path disk = QemuImages.createQcow2(tmp.resolve("test.qcow2"), 64 * MIB);
        QemuImages.writePattern(disk, 0x42, 0, 2 * MIB);
        CliRun backup = ColdcopyProcess.run(dir.resolve("process"), Duration.ofSeconds(90),
                Map.of("COLDCOPY_HOME", dir.resolve("home").toString()),
                "backup", "--repo", "file:" + tmp.resolve("backups"), "--vm", "test", "--disk", "vda=" + disk,
                "--allow-root", tmp.toString());
        assertThat(backup.exit()).as(backup.err()).isZero();
        assertThat(backup.out()).matches("test/vda \\S+ full .*\\R\\S+ \\S+ vm .*\\R");
        assertThat(backup.err()).as("the default roots are no concern of a one-shot backup").doesNotContain("does not exist");
    }

    @Test
    void aRefusedImageNamesTheOption() throws Exception {
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
        Path disk = QemuImages.createQcow2(elsewhere.resolve("web.qcow2"), 16 * MIB);
        Files.createDirectories(dir.resolve("home").resolve("images"));
        CliRun backup = CliRun.coldcopy("backup", "--repo", "file:" + dir.resolve("repo"), "--vm", "web", "--disk", "vda=" + disk,
                "-Dcoldcopy.home=" + dir.resolve("home"));
        assertThat(backup.exit()).isEqualTo(1);
        assertThat(backup.err()).contains("outside the allowed roots", "(allow its directory with --allow-root DIR)")
                .doesNotContain("set coldcopy.allowed-roots");
    }
}
