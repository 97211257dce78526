package dev.coldcopy.service;

import org.apache.camel.spi.Metadata;

/**
 * Every exchange header and property the coldcopy routes set and read: the names a YAML route uses
 * ({@code ${header.CamelColdcopyBackupKind}}, {@code ${exchangeProperty.coldcopyResult.bytesRead}}).
 */
public final class ColdcopyHeaders {

    // ---- events

    @Metadata(description = "The event's id: the sender's, else a fresh one", javaType = "String")
    public static final String EVENT_ID = "CamelColdcopyEventId";
    @Metadata(description = "The VM (libvirt domain) name", javaType = "String")
    public static final String VM = "CamelColdcopyVm";
    @Metadata(description = "The disk's target name (vda, sdb ...)", javaType = "String")
    public static final String DISK = "CamelColdcopyDisk";
    @Metadata(description = "Why an event or a disk failed, on one line", javaType = "String")
    public static final String REASON = "CamelColdcopyReason";
    @Metadata(description = "ok or failed (results), or a prune's outcome", javaType = "String")
    public static final String OUTCOME = "CamelColdcopyOutcome";

    // ---- the steps of routes/backup.yaml (lockDisk, inspectChain, planBackup, openExport, storeChunk,
    //      commitSnapshot, commitCheckpoint, closeDiskBackup)

    @Metadata(description = "In (lockDisk, without a DiskJob body): the disk image path; out: its real path",
            javaType = "String")
    public static final String IMAGE = "CamelColdcopyImage";
    @Metadata(description = "In (lockDisk, without a DiskJob body), optional: a checkpoint to back up from"
            + " instead of coldcopy's latest (e.g. libvirt's)", javaType = "String")
    public static final String CHECKPOINT = "CamelColdcopyCheckpoint";
    @Metadata(description = "Out of inspectChain: the disk's virtual size in bytes", javaType = "long")
    public static final String VIRTUAL_SIZE = "CamelColdcopyVirtualSize";
    @Metadata(description = "Out of planBackup: full, incremental or delta", javaType = "String")
    public static final String BACKUP_KIND = "CamelColdcopyBackupKind";
    @Metadata(description = "Out of planBackup: why this kind (the snapshot records it too)", javaType = "String")
    public static final String BACKUP_REASON = "CamelColdcopyBackupReason";
    @Metadata(description = "Out of openExport: the checkpoint bitmap this backup added to the top image",
            javaType = "String")
    public static final String CREATED_CHECKPOINT = "CamelColdcopyCreatedCheckpoint";
    @Metadata(description = "Out of commitSnapshot: the id of the snapshot just written", javaType = "String")
    public static final String SNAPSHOT_ID = "CamelColdcopySnapshotId";

    // ---- exchange properties

    /**
     * The event's id, also where the message is replaced by the original one (a dead letter of a spool file):
     * an id the event did not carry (one coldcopy gave it) is found only here then.
     */
    public static final String EVENT_ID_PROPERTY = "coldcopyEventId";

    /** The {@code DiskJob} being tried: set once per disk by the route, kept across retries. */
    public static final String DISK_JOB = "coldcopyDiskJob";
    /** The running {@code steps.DiskBackup}, from lockDisk to closeDiskBackup. */
    public static final String DISK_BACKUP = "coldcopyDiskBackup";
    /** A disk's {@code BackupResult}, success or failure. */
    public static final String RESULT = "coldcopyResult";
    /** Every disk's {@code BackupResult} of one event, also when the event failed. */
    public static final String RESULTS = "coldcopyResults";
    /** The {@code BackupEvent} being backed up, from diskJobs on (the body becomes the disk jobs). */
    public static final String EVENT = "coldcopyEvent";
    /** The event's {@code VmResult}: the VM as a whole, every disk listed (commitVmBackup). */
    public static final String VM_RESULT = "coldcopyVmResult";

    private ColdcopyHeaders() {}
}
