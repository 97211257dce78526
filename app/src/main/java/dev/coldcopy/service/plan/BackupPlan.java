package dev.coldcopy.service.plan;

import dev.coldcopy.checkpoint.CheckpointPlan;
import dev.coldcopy.repository.SnapshotKind;
import java.util.Optional;

/**
 * The decision for one disk.
 *
 * @param kind        full, incremental or delta: what the snapshot will be
 * @param reason      for people and the manifest, e.g. "full: bitmap X is in-use in /img (not saved cleanly)"
 * @param virtualSize the disk size seen now (stored with the snapshot)
 * @param checkpoints the base bitmap the export merges and the next checkpoint it adds
 */
public record BackupPlan(SnapshotKind kind, String reason, long virtualSize, CheckpointPlan checkpoints) {

    /** The checkpoint the backup reads the changes since (empty for a full backup). */
    public Optional<String> baseBitmap() {
        return checkpoints.baseBitmap();
    }

    public Optional<String> nextCheckpoint() {
        return checkpoints.nextCheckpoint();
    }
}
