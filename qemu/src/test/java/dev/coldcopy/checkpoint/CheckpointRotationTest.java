package dev.coldcopy.checkpoint;

import static dev.coldcopy.testing.QemuImages.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.coldcopy.backup.DiskBackupSession;
import dev.coldcopy.backup.RunDirectory;
import dev.coldcopy.qemu.ChainInspector;
import dev.coldcopy.qemu.ExportServer;
import dev.coldcopy.qemu.QemuTools;
import dev.coldcopy.qemu.RunningExport;
import dev.coldcopy.security.ImagePolicy;

/** Checkpoint rotation on real images: committed, failed, interrupted. */
class CheckpointRotationTest {

    static final String OLDER = "coldcopy.r1.20261120T100000000Z";
    static final String PREV = "coldcopy.r1.20261124T100000000Z";
    static final String OTHER_REPO = "coldcopy.r2.20261124T110000000Z";
    static final String LIBVIRT = "libvirt-checkpoint-1";
    static final long SIZE = 4 << 20;

    @TempDir
    Path dir;
    RunDirectory runDir;
    QemuTools tools = QemuTools.defaults();
    ChainInspector inspector;
    Path base;
    Path top;
    String baseHash;

    @BeforeEach
    void setUp() throws IOException {
        Path images = Files.createDirectory(dir.resolve("images"));
        runDir = RunDirectory.at(dir.resolve("run"));
        inspector = new ChainInspector(tools, new ImagePolicy(List.of(images)));
        base = createQcow2(images.resolve("template.qcow2"), "4M");
        writePattern(base, 0x10, 0, 256 << 10);
        addBitmap(base, PREV);
        addBitmap(base, LIBVIRT);
        writePattern(base, 0x11, 1 << 20, 64 << 10);
        top = createOverlay(images.resolve("vm.qcow2"), base);
        addBitmap(top, OLDER);
        addBitmap(top, PREV);
        addBitmap(top, LIBVIRT);
        addBitmap(top, OTHER_REPO);
        writePattern(top, 0x12, 2 << 20, 64 << 10);
        baseHash = sha256(base);
    }

    @AfterEach
    void nothingLeftBehind() throws IOException {
        assertThat(sha256(base)).as("backing file byte-identical").isEqualTo(baseHash);
        assertThat(bitmaps(base)).as("backing layer bitmaps untouched").containsExactly(PREV, LIBVIRT);
        assertThat(runDir.journal().entries()).isEmpty();
        try (Stream<Path> left = Files.list(runDir.exports())) {
            assertThat(left).isEmpty();
        }
        assertThat(serversMentioning(runDir.root().toString())).isEmpty();
    }

    CheckpointPlan plan() {
        return CheckpointPlan.since(inspector.inspect(top), "r1", PREV, Clock.systemUTC());
    }

    DiskBackupSession open(CheckpointPlan plan, String server) {
        return DiskBackupSession.open(runDir.diskLocks(), Duration.ofSeconds(5), tools, runDir.journal(),
                ExportServer.named(server, tools, runDir.exports()), inspector.inspect(top), plan);
    }

    @Test
    void committedBackupKeepsTheNewCheckpointAndDropsThisRepositorysOlderOnes() {
        CheckpointPlan plan = plan();
        assertThat(plan.baseBitmap()).isPresent();
        String next = plan.nextCheckpoint().orElseThrow();
        try (DiskBackupSession session = open(plan, "qemu-storage-daemon")) {
            assertThat(bitmaps(top)).contains(next, PREV, OLDER);
            assertThat(runDir.journal().entries()).extracting(CheckpointJournal.Entry::bitmap).containsExactly(next);
            RunningExport export = session.export();
            assertThat(dirtyRanges(export.nbdUri(), "qemu:dirty-bitmap:" + export.bitmap().orElseThrow()))
                    .containsExactly(new long[] {1 << 20, (1 << 20) + (64 << 10)}, new long[] {2 << 20, (2 << 20) + (64 << 10)});
            session.commit(); // the manifest is written
            assertThat(runDir.journal().entries()).isEmpty();
        }
        assertThat(bitmaps(top)).containsExactlyInAnyOrder(next, LIBVIRT, OTHER_REPO);
        // the next backup is incremental from the new checkpoint
        CheckpointPlan again = CheckpointPlan.since(inspector.inspect(top), "r1", next, Clock.systemUTC());
        assertThat(again.baseBitmap()).contains(next);
        assertThat(again.baseLayers()).hasSize(1);
    }

    @Test
    void failedBackupRemovesTheNewCheckpointAndKeepsThePreviousAsBase() {
        CheckpointPlan plan = plan();
        String next = plan.nextCheckpoint().orElseThrow();
        assertThatThrownBy(() -> {
            try (DiskBackupSession session = open(plan, "qemu-nbd")) {
                assertThat(bitmaps(top)).contains(next);
                throw new IllegalStateException("upload failed");
            }
        }).hasMessage("upload failed");
        assertThat(bitmaps(top)).containsExactlyInAnyOrder(OLDER, PREV, LIBVIRT, OTHER_REPO);
        assertThat(plan().baseBitmap()).contains(PREV);
    }

    @Test
    void interruptedBackupThreadStillCleansUpEverything() throws Exception {
        CheckpointPlan plan = plan();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicReference<Boolean> interruptedAfterClose = new AtomicReference<>();
        java.util.concurrent.CountDownLatch exporting = new java.util.concurrent.CountDownLatch(1);
        Thread worker = new Thread(() -> {
            try {
                try (DiskBackupSession session = open(plan, "qemu-storage-daemon")) {
                    exporting.countDown();
                    Thread.sleep(60_000); // "reading" when the interrupt comes
                } finally {
                    interruptedAfterClose.set(Thread.currentThread().isInterrupted());
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        worker.start();
        assertThat(exporting.await(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(serversMentioning(runDir.root().toString())).hasSize(1);
        worker.interrupt();
        worker.join(30_000);
        assertThat(worker.isAlive()).isFalse();
        assertThat(failure.get()).isInstanceOf(InterruptedException.class);
        assertThat(interruptedAfterClose.get()).isFalse(); // sleep() consumed it; close() ran regardless
        assertThat(bitmaps(top)).containsExactlyInAnyOrder(OLDER, PREV, LIBVIRT, OTHER_REPO);
    }

    @Test
    void closeWithTheInterruptFlagSetStillRemovesTheNewBitmap() {
        CheckpointPlan plan = plan();
        DiskBackupSession session = open(plan, "qemu-nbd");
        Thread.currentThread().interrupt();
        try {
            session.close();
            assertThat(Thread.currentThread().isInterrupted()).as("interrupt preserved").isTrue();
        } finally {
            Thread.interrupted();
        }
        assertThat(bitmaps(top)).containsExactlyInAnyOrder(OLDER, PREV, LIBVIRT, OTHER_REPO);
    }

    @Test
    void fullBackupAfterAnInUseCheckpointCommitsAndDropsIt() {
        leaveInUse(top); // PREV is now in-use in the top image: unusable
        String hashBefore = sha256(base);
        assertThat(BitmapValidation.of(inspector.inspect(top), PREV).problem().orElseThrow())
                .startsWith("bitmap " + PREV + " is in-use in " + top);
        CheckpointPlan plan = CheckpointPlan.full(inspector.inspect(top), "r1", Clock.systemUTC());
        try (DiskBackupSession session = open(plan, "qemu-storage-daemon")) {
            assertThat(session.export().bitmap()).isEmpty();
            session.commit();
        }
        assertThat(bitmaps(top)).containsExactlyInAnyOrder(plan.nextCheckpoint().orElseThrow(), LIBVIRT, OTHER_REPO);
        assertThat(sha256(base)).isEqualTo(hashBefore);
    }
}
