package dev.coldcopy.restore;

import java.util.List;

/**
 * The outcome of a verify run.
 *
 * @param snapshots snapshots checked
 * @param chunks    distinct chunks checked
 * @param problems  every bad object, by name; empty when all is well
 */
public record VerifyResult(int snapshots, int chunks, List<Problem> problems) {

    /**
     * @param object    "chunk HEX" or "manifest KEY" (or the repository for a key problem)
     * @param reason    one line
     * @param snapshots ids of the snapshots that reference the object
     */
    public record Problem(String object, String reason, List<String> snapshots) {
        @Override
        public String toString() {
            return object + ": " + reason + (snapshots.isEmpty() ? "" : " (used by " + String.join(", ", snapshots) + ")");
        }
    }

    public boolean ok() {
        return problems.isEmpty();
    }
}
