package dev.coldcopy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A name with {@code ..} after a symlinked directory: the kernel follows the link first, so
 * {@code img/sub/dirlink/../secret.qcow2} is {@code outside/deep/secret.qcow2}, never the decoy
 * {@code img/sub/secret.qcow2} that a lexical clean-up of the name would pick.
 */
class SymlinkedDotDotBackupTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;
    Path images;
    Path sub;
    String repo;

    @BeforeEach
    void setUp() throws Exception {
        Path deeper = Files.createDirectories(dir.resolve("outside/deep/deeper"));
        Path secret = QemuImages.createQcow2(dir.resolve("outside/deep/secret.qcow2"), 64 * MIB);
        QemuImages.writePattern(secret, 0x77, 0, MIB);
        images = Files.createDirectories(dir.resolve("img"));
        sub = Files.createDirectories(images.resolve("sub"));
        Files.createSymbolicLink(sub.resolve("dirlink"), deeper);
        repo = "file:" + dir.resolve("repo");
    }

    void decoy() {
        QemuImages.writePattern(QemuImages.createQcow2(sub.resolve("secret.qcow2"), 64 * MIB), 0x22, 0, MIB);
    }

    CliRun backup(String disk) {
        return CliRun.coldcopy("backup", "--repo", repo, "--vm", "dotdot", "--disk", "vda=" + disk, "--allow-root", images.toString(),
                "-Dcoldcopy.home=" + dir.resolve("home"), "-Dcoldcopy.retry.max=0", "-Dcoldcopy.repository.fsync=false");
    }

    Path dotDotOverlay() {
        Path top = sub.resolve("dotdot.qcow2");
        Tools.run("qemu-img", "create", "-q", "-f", "qcow2", "-u", "-b", "dirlink/../secret.qcow2", "-F", "qcow2", top.toString(), "64M");
        return top;
    }

    void assertRefusedAsOutside(CliRun run) {
        assertThat(run.exit()).as(run.out()).isEqualTo(1);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).contains("outside the allowed roots").doesNotContain("does not exist");
        assertThat(Files.exists(dir.resolve("repo/snapshots"))).as("no snapshot written").isFalse();
    }

    @Test
    void aBackingFileBehindASymlinkedDirectoryAndDotDotIsRefusedNotSwappedForTheDecoy() {
        decoy();
        assertRefusedAsOutside(backup(dotDotOverlay().toString()));
    }

    @Test
    void withoutTheDecoyTheRefusalStillSaysOutsideTheRoots() {
        assertRefusedAsOutside(backup(dotDotOverlay().toString()));
    }

    @Test
    void aDiskPathWithDotDotAfterASymlinkedDirectoryIsRefusedToo() {
        decoy();
        assertRefusedAsOutside(backup(sub.resolve("dirlink").toString() + "/../secret.qcow2"));
    }
}
