package dev.coldcopy.checkpoint;

import java.util.List;
import java.util.Optional;

import dev.coldcopy.qemu.ImageLayer;

/**
 * The decision for one disk.
 *
 * @param kind           full, incremental or delta
 * @param baseBitmap     the checkpoint the export's dirty bitmap is built from (empty for a full backup)
 * @param baseLayers     the layers holding {@code baseBitmap}, top first (their bitmaps are merged); empty for full
 * @param granularity    granularity for the merged backup bitmap (the top copy's), 0 for full
 * @param reason         for people and the manifest, e.g. "full: bitmap X is in-use in /img (not saved cleanly)"
 * @param nextCheckpoint the bitmap to add to the top image now (empty when the top image cannot hold one: raw)
 * @param repositoryId   whose checkpoint chain this is
 * @param virtualSize    the disk size seen now (store it with the snapshot)
 */
public record BackupPlan(BackupKind kind, Optional<String> baseBitmap, List<ImageLayer> baseLayers, long granularity,
        String reason, Optional<String> nextCheckpoint, String repositoryId, long virtualSize) {

    public BackupPlan {
        baseLayers = List.copyOf(baseLayers);
    }
}
