package dev.coldcopy.qemu;

import static dev.coldcopy.testing.QemuImages.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.coldcopy.checkpoint.BackupKind;
import dev.coldcopy.checkpoint.BackupPlan;
import dev.coldcopy.checkpoint.BackupPlanner;
import dev.coldcopy.checkpoint.PreviousBackup;
import dev.coldcopy.security.ImagePolicy;
import dev.coldcopy.security.ImageRefusedException;

/** Inspection and every reason for a full backup, each produced on real images with real qemu tools. */
class ChainInspectorTest {

    static final String CP = "coldcopy.r1.20261125T100000000Z";
    static final long SIZE = 4 << 20;

    @TempDir
    Path dir;
    ChainInspector inspector;

    @BeforeEach
    void setUp() {
        inspector = new ChainInspector(QemuTools.defaults(), new ImagePolicy(List.of(dir)));
    }

    BackupPlan plan(Path top) {
        return BackupPlanner.plan(inspector.inspect(top), "r1", Optional.empty(), Optional.of(new PreviousBackup(CP, SIZE)),
                Clock.systemUTC());
    }

    @Test
    void modelsAThreeLayerChainWithBitmapsAndFlags() {
        Path base = createQcow2(dir.resolve("base.qcow2"), "4M");
        addBitmap(base, CP);
        Path mid = createOverlay(dir.resolve("mid.qcow2"), base);
        addBitmap(mid, CP);
        addBitmap(mid, "libvirt-1");
        disableBitmap(mid, "libvirt-1");
        Path top = createOverlay(dir.resolve("top.qcow2"), mid);
        addBitmap(top, CP);

        BackingChain chain = inspector.inspect(top);
        assertThat(chain.layers()).extracting(ImageLayer::path).containsExactly(top, mid, base);
        assertThat(chain.layers()).extracting(ImageLayer::format).containsOnly("qcow2");
        assertThat(chain.virtualSize()).isEqualTo(SIZE);
        Bitmap libvirt = chain.layers().get(1).bitmap("libvirt-1").orElseThrow();
        assertThat(libvirt.recording()).isFalse();
        assertThat(libvirt.granularity()).isEqualTo(65536);
        assertThat(chain.top().bitmap(CP).orElseThrow().flags()).containsExactly("auto");

        BackupPlan plan = plan(top);
        assertThat(plan.kind()).isEqualTo(BackupKind.INCREMENTAL);
        assertThat(plan.baseLayers()).extracting(ImageLayer::path).containsExactly(top, mid, base);
    }

    @Test
    void fullWhenThereIsNoPreviousBackup() {
        Path top = createQcow2(dir.resolve("top.qcow2"), "4M");
        BackupPlan plan = BackupPlanner.plan(inspector.inspect(top), "r1", Optional.empty(), Optional.empty(), Clock.systemUTC());
        assertThat(plan.kind()).isEqualTo(BackupKind.FULL);
        assertThat(plan.reason()).isEqualTo("full: no previous backup in this repository (no checkpoint yet)");
        assertThat(plan.nextCheckpoint()).hasValueSatisfying(n -> assertThat(n).startsWith("coldcopy.r1."));
    }

    @Test
    void fullWhenTheBitmapIsMissingFromTheTop() {
        Path base = createQcow2(dir.resolve("base.qcow2"), "4M");
        addBitmap(base, CP);
        Path top = createOverlay(dir.resolve("top.qcow2"), base);
        assertThat(plan(top).reason()).isEqualTo("full: bitmap " + CP + " is missing from the top image " + top);
    }

    @Test
    void fullOnAHoleInTheChain() {
        Path base = createQcow2(dir.resolve("base.qcow2"), "4M");
        addBitmap(base, CP);
        Path mid = createOverlay(dir.resolve("mid.qcow2"), base);
        Path top = createOverlay(dir.resolve("top.qcow2"), mid);
        addBitmap(top, CP);
        assertThat(plan(top).reason())
                .isEqualTo("full: hole in the chain: bitmap " + CP + " is in " + base + " but not in " + mid + " above it");
    }

    @Test
    void fullWhenTheBitmapIsInUseAfterACrash() {
        Path base = createQcow2(dir.resolve("base.qcow2"), "4M");
        addBitmap(base, CP);
        Path top = createOverlay(dir.resolve("top.qcow2"), base);
        addBitmap(top, CP);
        leaveInUse(top); // qemu-io opened it read-write and was killed -9
        BackingChain chain = inspector.inspect(top);
        assertThat(chain.top().bitmap(CP).orElseThrow().inUse()).isTrue();
        assertThat(plan(top).reason()).isEqualTo("full: bitmap " + CP + " is in-use in " + top
                + " (not saved cleanly: the image was not closed properly)");
    }

    @Test
    void fullWhenTheBitmapIsDisabled() {
        Path top = createQcow2(dir.resolve("top.qcow2"), "4M");
        addBitmap(top, CP);
        disableBitmap(top, CP);
        assertThat(plan(top).reason()).isEqualTo("full: bitmap " + CP + " is disabled in " + top + " (not recording writes)");
    }

    @Test
    void fullForARawDisk() {
        Path raw = createRaw(dir.resolve("disk.raw"), "4M");
        BackupPlan plan = plan(raw);
        assertThat(plan.kind()).isEqualTo(BackupKind.FULL);
        assertThat(plan.reason()).isEqualTo("full: raw layer in the chain: top image " + raw
                + " is raw, which cannot carry bitmaps");
        assertThat(plan.nextCheckpoint()).isEmpty();
    }

    @Test
    void rawBaseBelowTheCheckpointIsFine() {
        Path base = createRaw(dir.resolve("base.raw"), "4M");
        Path top = createOverlay(dir.resolve("top.qcow2"), base);
        addBitmap(top, CP);
        BackingChain chain = inspector.inspect(top);
        assertThat(chain.layers()).extracting(ImageLayer::format).containsExactly("qcow2", "raw");
        assertThat(plan(top).kind()).isEqualTo(BackupKind.INCREMENTAL);
    }

    @Test
    void fullWhenTheDiskWasResized() {
        Path top = createQcow2(dir.resolve("top.qcow2"), "4M");
        addBitmap(top, CP);
        resize(top, "8M");
        assertThat(plan(top).reason())
                .isEqualTo("full: size changed: the disk is 8388608 bytes, the previous backup saw 4194304 bytes");
    }

    @Test
    void aRunningVmIsReportedAsRunning() {
        Path top = createQcow2(dir.resolve("top.qcow2"), "4M");
        try (var vm = holdOpen(top)) {
            assertThatThrownBy(() -> inspector.inspect(top)).isInstanceOf(VmRunningException.class)
                    .hasMessageStartingWith("VM is running: ").hasMessageContaining("lock");
        }
        assertThat(inspector.inspect(top).top().path()).isEqualTo(top);
    }

    @Test
    void backingFileOutsideTheRootsIsRefused() throws Exception {
        Path elsewhere = Files.createDirectory(dir.resolve("elsewhere"));
        Path images = Files.createDirectory(dir.resolve("images"));
        Path base = createQcow2(elsewhere.resolve("template.qcow2"), "4M");
        Path top = createOverlay(images.resolve("top.qcow2"), base);
        ChainInspector strict = new ChainInspector(QemuTools.defaults(), new ImagePolicy(List.of(images)));
        assertThatThrownBy(() -> strict.inspect(top)).isInstanceOf(ImageRefusedException.class)
                .hasMessageContaining("refused backing file '" + base + "' of " + top).hasMessageContaining("outside the allowed roots");
    }

    @Test
    void relativeBackingNamesResolveAgainstTheReferringImage() {
        Path base = createQcow2(dir.resolve("base.qcow2"), "4M");
        Path top = dir.resolve("top.qcow2");
        run("qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", top.toString());
        assertThat(inspector.inspect(top).layers()).extracting(ImageLayer::path).containsExactly(top, base);
    }
}
