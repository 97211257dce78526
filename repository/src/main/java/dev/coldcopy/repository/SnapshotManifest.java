package dev.coldcopy.repository;

import java.time.Instant;
import java.util.Optional;

/**
 * A committed snapshot: what was backed up, how, and the map from disk ranges to chunks.
 * FULL and INCREMENTAL manifests restore on their own (ranges not in the map are holes);
 * a DELTA holds only the ranges changed since {@link SnapshotHeader#checkpointUsed()} and restores onto a base.
 */
public final class SnapshotManifest {
    private final SnapshotId id;
    private final SnapshotHeader header;
    private final Optional<SnapshotId> parent;
    private final Instant created;
    private final int chunkSize;
    private final BackupStatistics statistics;
    private final ExtentMap extents;

    public SnapshotManifest(SnapshotId id, SnapshotHeader header, Optional<SnapshotId> parent, Instant created,
                            int chunkSize, BackupStatistics statistics, ExtentMap extents) {
        this.id = id;
        this.header = header;
        this.parent = parent;
        this.created = created;
        this.chunkSize = chunkSize;
        this.statistics = statistics;
        this.extents = extents;
    }

    public SnapshotId id() {
        return id;
    }

    public SnapshotHeader header() {
        return header;
    }

    public String vm() {
        return header.vm();
    }

    public String disk() {
        return header.disk();
    }

    public SnapshotKind kind() {
        return header.kind();
    }

    public long virtualSize() {
        return header.virtualSize();
    }

    public Optional<SnapshotId> parent() {
        return parent;
    }

    public Instant created() {
        return created;
    }

    public int chunkSize() {
        return chunkSize;
    }

    public BackupStatistics statistics() {
        return statistics;
    }

    public ExtentMap extents() {
        return extents;
    }

    /** false for a DELTA: it needs a base image (restore --onto) */
    public boolean restorableAlone() {
        return header.kind() != SnapshotKind.DELTA;
    }

    public SnapshotSummary summary() {
        return new SnapshotSummary(id, header.vm(), header.disk(), created, header.kind(), header.reason(),
                header.virtualSize(), extents.dataBytes(), statistics.bytesStored(), parent,
                header.checkpointUsed(), header.checkpointCreated(), header.eventId());
    }

    @Override
    public String toString() {
        return "snapshot " + id + " of " + header.vm() + "/" + header.disk() + " (" + header.kind().label() + ", "
                + extents.size() + " extents, " + extents.chunks().size() + " chunks)";
    }
}
