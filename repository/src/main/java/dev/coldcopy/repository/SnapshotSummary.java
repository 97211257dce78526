package dev.coldcopy.repository;

import java.time.Instant;
import java.util.Optional;

/**
 * One line of a snapshot listing.
 *
 * @param eventId the stop event the snapshot answers; null when it recorded none (or its summary predates event ids)
 */
public record SnapshotSummary(SnapshotId id, String vm, String disk, Instant created, SnapshotKind kind, String reason,
                              long virtualSize, long dataBytes, long bytesStored, Optional<SnapshotId> parent,
                              String checkpointUsed, String checkpointCreated, String eventId) {

    /** a summary without an event id */
    public SnapshotSummary(SnapshotId id, String vm, String disk, Instant created, SnapshotKind kind, String reason,
                           long virtualSize, long dataBytes, long bytesStored, Optional<SnapshotId> parent,
                           String checkpointUsed, String checkpointCreated) {
        this(id, vm, disk, created, kind, reason, virtualSize, dataBytes, bytesStored, parent, checkpointUsed,
                checkpointCreated, null);
    }
}
