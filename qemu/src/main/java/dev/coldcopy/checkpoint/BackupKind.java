package dev.coldcopy.checkpoint;

/** What the export of one disk will contain. */
public enum BackupKind {
    /** Every allocated block: no usable checkpoint. */
    FULL,
    /** The blocks changed since the checkpoint this repository's previous backup created. */
    INCREMENTAL,
    /**
     * The blocks changed since a checkpoint other than the one this disk's latest backup here created (e.g. a libvirt
     * checkpoint named in the event): the repository has no snapshot at that point and stores it as a delta.
     */
    DELTA;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
