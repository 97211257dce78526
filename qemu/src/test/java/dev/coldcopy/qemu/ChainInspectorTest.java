package dev.coldcopy.qemu;

import static dev.coldcopy.testing.QemuImages.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.coldcopy.checkpoint.BitmapValidation;
import dev.coldcopy.checkpoint.CheckpointPlan;
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

    /** Whether the previous checkpoint {@code CP} can be the base of an incremental of the chain under {@code top}. */
    BitmapValidation validation(Path top) {
        return BitmapValidation.of(inspector.inspect(top), CP);
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

        BitmapValidation validation = validation(top);
        assertThat(validation.valid()).isTrue();
        assertThat(validation.layers()).extracting(ImageLayer::path).containsExactly(top, mid, base);
    }

    @Test
    void fullWhenTheBitmapIsMissingFromTheTop() {
        Path base = createQcow2(dir.resolve("base.qcow2"), "4M");
        addBitmap(base, CP);
        Path top = createOverlay(dir.resolve("top.qcow2"), base);
        assertThat(validation(top).problem()).contains("bitmap " + CP + " is missing from the top image " + top);
    }

    @Test
    void fullOnAHoleInTheChain() {
        Path base = createQcow2(dir.resolve("base.qcow2"), "4M");
        addBitmap(base, CP);
        Path mid = createOverlay(dir.resolve("mid.qcow2"), base);
        Path top = createOverlay(dir.resolve("top.qcow2"), mid);
        addBitmap(top, CP);
        assertThat(validation(top).problem())
                .contains("hole in the chain: bitmap " + CP + " is in " + base + " but not in " + mid + " above it");
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
        assertThat(validation(top).problem()).contains("bitmap " + CP + " is in-use in " + top
                + " (not saved cleanly: the image was not closed properly)");
    }

    @Test
    void fullWhenTheBitmapIsDisabled() {
        Path top = createQcow2(dir.resolve("top.qcow2"), "4M");
        addBitmap(top, CP);
        disableBitmap(top, CP);
        assertThat(validation(top).problem()).contains("bitmap " + CP + " is disabled in " + top + " (not recording writes)");
    }

    @Test
    void fullForARawDisk() {
        Path raw = createRaw(dir.resolve("disk.raw"), "4M");
        assertThat(validation(raw).problem()).contains("raw layer in the chain: top image " + raw
                + " is raw, which cannot carry bitmaps");
        assertThat(CheckpointPlan.full(inspector.inspect(raw), "r1", Clock.systemUTC()).nextCheckpoint())
                .as("a raw top image gets no next checkpoint").isEmpty();
    }

    @Test
    void rawBaseBelowTheCheckpointIsFine() {
        Path base = createRaw(dir.resolve("base.raw"), "4M");
        Path top = createOverlay(dir.resolve("top.qcow2"), base);
        addBitmap(top, CP);
        BackingChain chain = inspector.inspect(top);
        assertThat(chain.layers()).extracting(ImageLayer::format).containsExactly("qcow2", "raw");
        assertThat(validation(top).valid()).isTrue();
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

    @Test
    void aDeclaredRawDiskIsReadAsRawWhateverItsFirstBytesSay() throws Exception {
        // a guest can write a qcow2 header naming any backing file at the start of its raw disk
        Path secret = createQcow2(dir.resolve("another-vm.qcow2"), "4M");
        Path guestWritten = createOverlay(dir.resolve("guest.qcow2"), secret);
        Path raw = dir.resolve("disk.raw");
        byte[] header = Files.readAllBytes(guestWritten);
        Files.write(raw, java.util.Arrays.copyOf(header, 4 << 20));
        assertThat(inspector.inspect(raw).layers()).as("probed: the header is followed").hasSize(2);

        BackingChain declared = inspector.inspect(raw, java.util.Optional.of("raw"));
        assertThat(declared.layers()).extracting(ImageLayer::format).containsExactly("raw");
        assertThat(declared.layers()).extracting(ImageLayer::path).containsExactly(raw);
        assertThat(declared.virtualSize()).isEqualTo(4 << 20);
    }

    @Test
    void aDeclaredFormatThatIsWrongOrUnknownIsRefused() {
        Path raw = createRaw(dir.resolve("disk.raw"), "4M");
        assertThatThrownBy(() -> inspector.inspect(raw, java.util.Optional.of("qcow2"))).isInstanceOf(ImageRefusedException.class)
                .hasMessage("refused " + raw + ": declared qcow2, but it is not a qcow2 image");
        assertThatThrownBy(() -> inspector.inspect(raw, java.util.Optional.of("vmdk"))).isInstanceOf(ImageRefusedException.class)
                .hasMessage("refused " + raw + ": its format 'vmdk' is not qcow2 or raw");
    }
}
