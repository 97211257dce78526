package dev.coldcopy.repository;

/** What a snapshot holds, and therefore how it restores. */
public enum SnapshotKind {
    /** the whole disk: ranges not put are holes (read as zero) */
    FULL,
    /** ranges not put are carried forward from the parent: restores on its own like a full */
    INCREMENTAL,
    /** only the ranges dirty since a foreign checkpoint: restorable only onto a base image (restore --onto) */
    DELTA;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
