package dev.coldcopy.backup;

import dev.coldcopy.checkpoint.CheckpointPlan;

import static dev.coldcopy.testing.QemuImages.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.coldcopy.qemu.ChainInspector;
import dev.coldcopy.qemu.ExportServer;
import dev.coldcopy.qemu.QemuTools;
import dev.coldcopy.security.ImagePolicy;

/** One backup per disk at a time; different disks in parallel. */
class DiskLocksTest {

    @TempDir
    Path dir;
    RunDirectory runDir;
    QemuTools tools = QemuTools.defaults();
    ChainInspector inspector;
    Path disk1;
    Path disk2;

    @BeforeEach
    void setUp() throws Exception {
        Path images = Files.createDirectory(dir.resolve("images"));
        runDir = RunDirectory.at(dir.resolve("run"));
        inspector = new ChainInspector(tools, new ImagePolicy(List.of(images)));
        disk1 = createQcow2(images.resolve("vm1-vda.qcow2"), "4M");
        disk2 = createQcow2(images.resolve("vm2-vda.qcow2"), "4M");
    }

    DiskBackupSession open(Path disk, Duration wait) {
        var chain = inspector.inspect(disk);
        return DiskBackupSession.open(runDir.diskLocks(), wait, tools, runDir.journal(),
                ExportServer.named("qemu-storage-daemon", tools, runDir.exports()), chain,
                CheckpointPlan.full(chain, "r1", Clock.systemUTC()));
    }

    @Test
    void aSecondBackupOfTheSameDiskIsRefusedClearlyAfterWaiting() {
        try (DiskBackupSession first = open(disk1, Duration.ofSeconds(1))) {
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> open(disk1, Duration.ofMillis(300))).isInstanceOf(DiskBusyException.class)
                    .hasMessageStartingWith("disk " + disk1 + " is busy: another backup of it has been running in this process since")
                    .hasMessageEndingWith("(waited 300 ms)");
            assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(300_000_000L);
            assertThat(bitmaps(disk1)).hasSize(1); // the refused one added no checkpoint
        }
    }

    @Test
    void aWaitingBackupProceedsOnceTheFirstFinishes() throws Exception {
        DiskBackupSession first = open(disk1, Duration.ofSeconds(1));
        CompletableFuture<String> second = CompletableFuture.supplyAsync(() -> {
            try (DiskBackupSession s = open(disk1, Duration.ofSeconds(20))) {
                return s.export().nbdUri();
            }
        });
        Thread.sleep(300);
        assertThat(second).isNotDone();
        first.close();
        assertThat(second.get(30, TimeUnit.SECONDS)).startsWith("nbd+unix:///disk?socket=");
    }

    @Test
    void differentDisksAreBackedUpInParallel() {
        try (DiskBackupSession a = open(disk1, Duration.ofMillis(100)); DiskBackupSession b = open(disk2, Duration.ofMillis(100))) {
            assertThat(nbdMap(a.export().nbdUri(), "base:allocation")).isNotEmpty();
            assertThat(nbdMap(b.export().nbdUri(), "base:allocation")).isNotEmpty();
            assertThat(a.export().pid()).isNotEqualTo(b.export().pid());
        }
    }

    /** One file under two hard links is one disk: in this process and, through the lock file, across processes. */
    @Test
    void twoHardLinksToOneImageAreOneDisk() throws Exception {
        Path link = Files.createLink(disk1.resolveSibling("vm1-vda-link.qcow2"), disk1);
        Path lockDir = dir.resolve("locks");
        DiskLocks locks = new DiskLocks(lockDir);
        try (DiskLock first = locks.lock(disk1, Duration.ofSeconds(1))) {
            assertThatThrownBy(() -> locks.lock(link, Duration.ofMillis(200))).isInstanceOf(DiskBusyException.class)
                    .hasMessageStartingWith("disk " + link + " is busy");
        }
        try (DiskLock second = locks.lock(link, Duration.ofSeconds(1))) {
            assertThat(second.image()).isEqualTo(link);
        }
        try (var files = Files.list(lockDir)) {
            assertThat(files.toList()).as("one lock file for both names").hasSize(1);
        }
    }
}
