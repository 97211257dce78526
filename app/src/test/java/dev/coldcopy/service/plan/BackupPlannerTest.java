package dev.coldcopy.service.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.qemu.BackingChain;
import dev.coldcopy.qemu.Bitmap;
import dev.coldcopy.qemu.ImageLayer;
import dev.coldcopy.repository.SnapshotKind;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Pure planning logic on hand-built chains (the real-image versions are in ChainInspectorTest). */
class BackupPlannerTest {

    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-25T20:30:00.123Z"), ZoneOffset.UTC);
    static final long SIZE = 8 << 20;
    static final String PREV = "coldcopy.r1.20261124T100000000Z";

    static Bitmap ok(String name) {
        return new Bitmap(name, 65536, Set.of("auto"));
    }

    static ImageLayer layer(String name, Bitmap... bitmaps) {
        return new ImageLayer(Path.of("/img/" + name), "qcow2", SIZE, List.of(bitmaps));
    }

    @Test
    void incrementalFromThePreviousCheckpointMergedOverTheLayersHoldingIt() {
        BackingChain chain = new BackingChain(List.of(layer("top", ok(PREV)), layer("mid", ok(PREV)), layer("base")));
        BackupPlan plan = BackupPlanner.plan(chain, "r1", Optional.empty(), Optional.of(new PreviousBackup(PREV, SIZE)), CLOCK);
        assertThat(plan.kind()).isEqualTo(SnapshotKind.INCREMENTAL);
        assertThat(plan.baseBitmap()).contains(PREV);
        assertThat(plan.checkpoints().baseLayers()).extracting(ImageLayer::path).containsExactly(Path.of("/img/top"), Path.of("/img/mid"));
        assertThat(plan.nextCheckpoint()).contains("coldcopy.r1.20261125T203000123Z");
        assertThat(plan.checkpoints().granularity()).isEqualTo(65536);
        assertThat(plan.reason()).startsWith("incremental from " + PREV);
    }

    @Test
    void eventCheckpointNotCreatedByColdcopyIsADelta() {
        BackingChain chain = new BackingChain(List.of(layer("top", ok("libvirt-7"), ok(PREV))));
        BackupPlan plan = BackupPlanner.plan(chain, "r1", Optional.of("libvirt-7"), Optional.of(new PreviousBackup(PREV, SIZE)), CLOCK);
        assertThat(plan.kind()).isEqualTo(SnapshotKind.DELTA);
        assertThat(plan.baseBitmap()).contains("libvirt-7");
        assertThat(plan.reason()).startsWith("delta from libvirt-7 (a checkpoint coldcopy did not create) merged over 1 layer");
        BackupPlan same = BackupPlanner.plan(chain, "r1", Optional.of(PREV), Optional.of(new PreviousBackup(PREV, SIZE)), CLOCK);
        assertThat(same.kind()).isEqualTo(SnapshotKind.INCREMENTAL);
        BackupPlan noPrevious = BackupPlanner.plan(chain, "r1", Optional.of("libvirt-7"), Optional.empty(), CLOCK);
        assertThat(noPrevious.kind()).isEqualTo(SnapshotKind.DELTA);
        BackupPlan missing = BackupPlanner.plan(chain, "r1", Optional.of("libvirt-9"), Optional.empty(), CLOCK);
        assertThat(missing.kind()).isEqualTo(SnapshotKind.FULL);
        assertThat(missing.reason()).isEqualTo("full: checkpoint libvirt-9 named in the event cannot be used: bitmap libvirt-9 "
                + "is missing from the top image /img/top");
    }

    /** Another VM's checkpoint on the same image is coldcopy's, of this repository: the reason must not deny that. */
    @Test
    void aDeltaReasonSaysWhoseCheckpointItIs() {
        String otherVms = "coldcopy.r1.20261125T100000000Z";
        String otherRepo = "coldcopy.r2.20261125T100000000Z";
        BackingChain chain = new BackingChain(List.of(layer("top", ok(otherVms), ok(otherRepo), ok(PREV))));
        Optional<PreviousBackup> previous = Optional.of(new PreviousBackup(PREV, SIZE));
        assertThat(BackupPlanner.plan(chain, "r1", Optional.of(otherVms), previous, CLOCK).reason())
                .startsWith("delta from " + otherVms + " (a coldcopy checkpoint of this repository, but not the one this disk's "
                        + "latest backup created)");
        assertThat(BackupPlanner.plan(chain, "r1", Optional.of(otherRepo), previous, CLOCK).reason())
                .startsWith("delta from " + otherRepo + " (a coldcopy checkpoint of another repository)");
    }

    @Test
    void rawTopCannotCarryACheckpoint() {
        BackingChain chain = new BackingChain(List.of(new ImageLayer(Path.of("/img/disk.raw"), "raw", SIZE, List.of())));
        BackupPlan plan = BackupPlanner.plan(chain, "r1", Optional.empty(), Optional.of(new PreviousBackup(PREV, SIZE)), CLOCK);
        assertThat(plan.kind()).isEqualTo(SnapshotKind.FULL);
        assertThat(plan.reason()).isEqualTo("full: raw image: it keeps no dirty bitmap, so every allocated block is read"
                + " (chunks the repository already has are not stored again)");
        assertThat(plan.nextCheckpoint()).isEmpty();
        assertThat(BackupPlanner.plan(chain, "r1", Optional.of("cp1"), Optional.empty(), CLOCK).reason())
                .endsWith("; checkpoint cp1 named in the event cannot be on a raw image");
    }

    @Test
    void previousBackupWithoutCheckpoint() {
        BackingChain chain = new BackingChain(List.of(layer("top", ok(PREV))));
        BackupPlan plan = BackupPlanner.plan(chain, "r1", Optional.empty(), Optional.of(new PreviousBackup(null, SIZE)), CLOCK);
        assertThat(plan.reason()).isEqualTo("full: no checkpoint yet: the previous backup created none");
    }

    @Test
    void sizeDifferenceBetweenLayersHoldingTheBitmap() {
        ImageLayer top = layer("top", ok(PREV));
        ImageLayer small = new ImageLayer(Path.of("/img/mid"), "qcow2", SIZE / 2, List.of(ok(PREV)));
        BackupPlan plan = BackupPlanner.plan(new BackingChain(List.of(top, small)), "r1", Optional.of(PREV), Optional.empty(), CLOCK);
        assertThat(plan.reason()).startsWith("full: checkpoint " + PREV + " named in the event cannot be used: size changed: /img/mid");
    }

    @Test
    void fullWithoutAPreviousBackupStartsTheCheckpointChain() {
        BackingChain chain = new BackingChain(List.of(layer("top")));
        BackupPlan plan = BackupPlanner.plan(chain, "r1", Optional.empty(), Optional.empty(), CLOCK);
        assertThat(plan.kind()).isEqualTo(SnapshotKind.FULL);
        assertThat(plan.reason()).isEqualTo("full: no previous backup in this repository (no checkpoint yet)");
        assertThat(plan.baseBitmap()).isEmpty();
        assertThat(plan.nextCheckpoint()).contains("coldcopy.r1.20261125T203000123Z");
    }

    @Test
    void fullWhenTheDiskWasResizedSinceThePreviousBackup() {
        ImageLayer grown = new ImageLayer(Path.of("/img/top"), "qcow2", 2 * SIZE, List.of(ok(PREV)));
        BackupPlan plan = BackupPlanner.plan(new BackingChain(List.of(grown)), "r1", Optional.empty(),
                Optional.of(new PreviousBackup(PREV, SIZE)), CLOCK);
        assertThat(plan.kind()).isEqualTo(SnapshotKind.FULL);
        assertThat(plan.reason()).isEqualTo("full: size changed: the disk is 16777216 bytes, the previous backup saw 8388608 bytes");
    }

    @Test
    void aCheckpointNameFromTheEventIsRefusedBeforePlanning() {
        BackingChain chain = new BackingChain(List.of(layer("top")));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> BackupPlanner.plan(chain, "abc", Optional.of("x|y"),
                Optional.empty(), CLOCK)).isInstanceOf(dev.coldcopy.security.NameRefusedException.class)
                .hasMessageContaining("'|'");
    }
}
