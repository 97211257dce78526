package dev.coldcopy.repository;

import java.time.Instant;
import java.util.Optional;

/** One line of a snapshot listing. */
public record SnapshotSummary(SnapshotId id, String vm, String disk, Instant created, SnapshotKind kind, String reason,
                              long virtualSize, long dataBytes, long bytesStored, Optional<SnapshotId> parent,
                              String checkpointUsed, String checkpointCreated) {
}
