package dev.coldcopy.processors;

/** Exchange headers and properties the backup processors read and set (names as Camel components name theirs). */
public final class BackupHeaders {

    /** in: the disk's top image path (String or Path). */
    public static final String IMAGE = "CamelColdcopyImage";
    /** in: the repository's short id ({@code CheckpointNames.repositoryId(uri)}). */
    public static final String REPOSITORY_ID = "CamelColdcopyRepositoryId";
    /** in, optional: a checkpoint named in the event (e.g. libvirt's). */
    public static final String CHECKPOINT = "CamelColdcopyCheckpoint";
    /** in, optional: {@code PreviousBackup} from the repository's latest snapshot of this disk. */
    public static final String PREVIOUS_BACKUP = "CamelColdcopyPreviousBackup";
    /** out of inspect: {@code BackingChain}. */
    public static final String CHAIN = "CamelColdcopyChain";
    /** out of plan: {@code BackupPlan}. */
    public static final String PLAN = "CamelColdcopyPlan";
    /** out of plan: "full", "incremental" or "delta". */
    public static final String BACKUP_KIND = "CamelColdcopyBackupKind";
    /** out of plan: the human reason. */
    public static final String BACKUP_REASON = "CamelColdcopyBackupReason";
    /** out of open: {@code nbd+unix:///disk?socket=...}. */
    public static final String NBD_URI = "CamelColdcopyNbdUri";
    /** out of open: {@code qemu:dirty-bitmap:NAME}, absent for a full backup. */
    public static final String DIRTY_BITMAP_CONTEXT = "CamelColdcopyDirtyBitmapContext";
    /** out of open: the checkpoint this backup created (store it in the manifest). */
    public static final String CREATED_CHECKPOINT = "CamelColdcopyCreatedCheckpoint";
    /** out of open: the disk's virtual size now (store it in the manifest). */
    public static final String VIRTUAL_SIZE = "CamelColdcopyVirtualSize";
    /** exchange property: the open {@code DiskBackupSession}, closed when the exchange completes. */
    public static final String SESSION_PROPERTY = "CamelColdcopyBackupSession";

    private BackupHeaders() {
    }
}
