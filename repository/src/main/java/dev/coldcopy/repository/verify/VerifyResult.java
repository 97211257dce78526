package dev.coldcopy.repository.verify;

import java.util.List;

/**
 * The outcome of a verify run.
 *
 * @param snapshots snapshots checked
 * @param chunks    distinct chunks checked
 * @param problems  every bad object, by name; empty when all is well
 * @param unusedChunks      chunks stored that no snapshot uses (counted when every snapshot was checked; -1 otherwise):
 *                          a backup's that is still running, or garbage that {@code prune} removes
 * @param unusedChunkBytes  their stored bytes
 * @param vmBackups         VM backups checked (their records, host files and the snapshots they list)
 */
public record VerifyResult(int snapshots, int chunks, List<Problem> problems, long unusedChunks, long unusedChunkBytes, int vmBackups) {

    public VerifyResult(int snapshots, int chunks, List<Problem> problems, long unusedChunks, long unusedChunkBytes) {
        this(snapshots, chunks, problems, unusedChunks, unusedChunkBytes, 0);
    }

    public VerifyResult(int snapshots, int chunks, List<Problem> problems) {
        this(snapshots, chunks, problems, -1, 0);
    }

    /**
     * @param object    "chunk HEX", "manifest KEY" or "vm backup vms/VM/ID" (or the repository for a key problem)
     * @param reason    one line
     * @param snapshots ids of the snapshots (and VM backups) that reference the object
     * @param movedTo   the quarantine key a damaged chunk was moved to, or null
     */
    public record Problem(String object, String reason, List<String> snapshots, String movedTo) {
        public Problem(String object, String reason, List<String> snapshots) {
            this(object, reason, snapshots, null);
        }

        @Override
        public String toString() {
            return object + ": " + reason + (snapshots.isEmpty() ? "" : " (used by " + String.join(", ", snapshots) + ")")
                    + (movedTo == null ? "" : "; moved to " + movedTo);
        }
    }

    public boolean ok() {
        return problems.isEmpty();
    }

    /**
     * the snapshots (and VM backups) that cannot be restored as they are (until a backup stores the
     * missing data again), sorted
     */
    public List<String> brokenSnapshots() {
        return problems.stream().flatMap(p -> p.snapshots().stream()).distinct().sorted().toList();
    }
}
