package dev.coldcopy.repository.lifecycle;

import dev.coldcopy.repository.SnapshotId;
import java.util.List;

/**
 * What a prune did (or, for a dry run, would do).
 *
 * @param disks                  per disk: what was kept and removed
 * @param snapshotsRemoved       snapshots forgotten
 * @param snapshotsKept          snapshots left (of the disks the prune looked at)
 * @param chunksRemoved          chunks no remaining snapshot uses, deleted
 * @param bytesFreed             stored bytes of those chunks
 * @param chunksKept             chunks still used
 * @param partlyUsedChunks       used chunks holding bytes that no snapshot reads (packed chunks)
 * @param unusedBytesInUsedChunks how many plaintext bytes those hold (not repacked)
 * @param chunksMissing          chunks a snapshot uses that the repository lacks (run verify)
 * @param staleLocksRemoved      stale lock objects removed
 * @param durationMillis         wall time
 * @param removedVmBackups       VM backups forgotten (none of their snapshots is kept; or they have none and no
 *                               keep rule keeps them), oldest first; for a dry run, those that would be
 */
public record PruneResult(boolean dryRun, List<DiskOutcome> disks, int snapshotsRemoved, int snapshotsKept, long chunksRemoved,
                          long bytesFreed, long chunksKept, long partlyUsedChunks, long unusedBytesInUsedChunks, long chunksMissing,
                          int staleLocksRemoved, long durationMillis, List<RemovedVmBackup> removedVmBackups) {

    public PruneResult {
        removedVmBackups = List.copyOf(removedVmBackups);
    }

    /** how many VM backups were forgotten */
    public int vmBackupsRemoved() {
        return removedVmBackups.size();
    }

    /** one disk: the snapshots kept (with the rules that kept them) and those removed */
    public record DiskOutcome(String vm, String disk, List<Kept> kept, List<SnapshotId> removed) {
    }

    public record Kept(SnapshotId id, List<String> reasons) {
    }

    /** a VM backup forgotten, and why */
    public record RemovedVmBackup(String vm, SnapshotId id, String reason) {
    }
}
