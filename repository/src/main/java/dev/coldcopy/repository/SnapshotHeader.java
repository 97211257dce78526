package dev.coldcopy.repository;

import java.util.Objects;

/**
 * What the backup service knows about a snapshot before writing it.
 *
 * @param vm                the VM's name
 * @param disk              the disk's target name (vda, sdb, ...)
 * @param sourceImage       the image path backed up (top of the chain)
 * @param virtualSize       the disk's virtual size in bytes
 * @param kind              full, incremental or delta
 * @param reason            why this kind (e.g. "no valid checkpoint: bitmap missing in layer 2")
 * @param checkpointUsed    the bitmap the dirty ranges came from (null for a full)
 * @param checkpointCreated the bitmap added for the next backup (null if none)
 * @param eventId           the stop event this snapshot answers (null if unknown: snapshots written before event
 *                          ids were recorded, or by a caller without one); a redelivered event is recognised by it
 */
public record SnapshotHeader(String vm, String disk, String sourceImage, long virtualSize, SnapshotKind kind,
                             String reason, String checkpointUsed, String checkpointCreated, String eventId) {
    /** event ids are names a sender chose; a VM backup record bounds them the same way */
    public static final int MAX_EVENT_ID = 255;

    public SnapshotHeader {
        Objects.requireNonNull(vm, "vm");
        Objects.requireNonNull(disk, "disk");
        Objects.requireNonNull(kind, "kind");
        if (vm.isBlank() || disk.isBlank()) {
            throw new IllegalArgumentException("vm and disk names must not be blank");
        }
        if (virtualSize <= 0) {
            throw new IllegalArgumentException("virtual size must be positive, got " + virtualSize);
        }
        if (kind == SnapshotKind.DELTA && (checkpointUsed == null || checkpointUsed.isBlank())) {
            throw new IllegalArgumentException("a delta snapshot must name the checkpoint it was taken from");
        }
        if (eventId != null && (eventId.isBlank() || eventId.length() > MAX_EVENT_ID)) {
            throw new IllegalArgumentException("an event id must be 1 to " + MAX_EVENT_ID + " characters");
        }
        reason = reason == null ? "" : reason;
    }

    /** a header without an event id */
    public SnapshotHeader(String vm, String disk, String sourceImage, long virtualSize, SnapshotKind kind,
                          String reason, String checkpointUsed, String checkpointCreated) {
        this(vm, disk, sourceImage, virtualSize, kind, reason, checkpointUsed, checkpointCreated, null);
    }

    /** whether this snapshot was taken for that event (never for a null id) */
    public boolean answers(String event) {
        return eventId != null && eventId.equals(event);
    }
}
