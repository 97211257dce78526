package dev.coldcopy.service.plan;

import dev.coldcopy.checkpoint.BitmapValidation;
import dev.coldcopy.checkpoint.CheckpointNames;
import dev.coldcopy.checkpoint.CheckpointPlan;
import dev.coldcopy.qemu.BackingChain;
import dev.coldcopy.repository.SnapshotKind;
import dev.coldcopy.security.Names;
import java.time.Clock;
import java.util.List;
import java.util.Optional;

/**
 * Decides full, incremental or delta for one disk. It never fails a backup because incremental is
 * impossible (that is a full, with the reason), and never plans an incremental from an invalid bitmap.
 * Pure logic: everything it needs is in the arguments.
 */
public final class BackupPlanner {

    private BackupPlanner() {
    }

    /**
     * @param chain               the disk as inspected now
     * @param repositoryId        the repository's short id ({@link CheckpointNames#repositoryId})
     * @param requestedCheckpoint a checkpoint named in the event (e.g. libvirt's), used instead of the previous one
     * @param previous            what the repository's latest snapshot of this disk remembers
     * @throws dev.coldcopy.security.NameRefusedException the requested checkpoint name is not acceptable
     */
    public static BackupPlan plan(BackingChain chain, String repositoryId, Optional<String> requestedCheckpoint,
            Optional<PreviousBackup> previous, Clock clock) {
        CheckpointNames.checkRepositoryId(repositoryId);
        requestedCheckpoint = requestedCheckpoint.filter(s -> !s.isBlank()).map(Names::checkpoint);

        String base;
        SnapshotKind kind;
        if (!chain.top().isQcow2()) {
            return full(chain, repositoryId, clock, "raw image: it keeps no dirty bitmap, so every allocated block is read"
                    + " (chunks the repository already has are not stored again)"
                    + requestedCheckpoint.map(c -> "; checkpoint " + c + " named in the event cannot be on a raw image").orElse(""));
        }
        if (requestedCheckpoint.isPresent()) {
            base = requestedCheckpoint.get();
            boolean ours = previous.filter(p -> base.equals(p.checkpointName())).isPresent();
            kind = ours ? SnapshotKind.INCREMENTAL : SnapshotKind.DELTA;
        } else if (previous.isEmpty()) {
            return full(chain, repositoryId, clock, "no previous backup in this repository (no checkpoint yet)");
        } else if (!previous.get().createdCheckpoint()) {
            return full(chain, repositoryId, clock, "no checkpoint yet: the previous backup created none");
        } else {
            base = previous.get().checkpointName();
            kind = SnapshotKind.INCREMENTAL;
        }

        BitmapValidation validation = BitmapValidation.of(chain, base);
        if (!validation.valid()) {
            String problem = validation.problem().get();
            return full(chain, repositoryId, clock, kind == SnapshotKind.DELTA
                    ? "checkpoint " + base + " named in the event cannot be used: " + problem : problem);
        }
        if (previous.isPresent() && previous.get().virtualSize() != chain.virtualSize()) {
            return full(chain, repositoryId, clock, "size changed: the disk is " + chain.virtualSize()
                    + " bytes, the previous backup saw " + previous.get().virtualSize() + " bytes");
        }
        List<String> where = validation.layers().stream().map(l -> l.path().getFileName().toString()).toList();
        String reason = kind.label() + " from " + base + (kind == SnapshotKind.DELTA ? " (" + whoseCheckpoint(base, repositoryId) + ")" : "")
                + " merged over " + where.size() + (where.size() == 1 ? " layer " : " layers ") + where;
        return new BackupPlan(kind, reason, chain.virtualSize(), CheckpointPlan.since(chain, repositoryId, base, clock));
    }

    /** Why a named checkpoint gives a delta: it is not the one this disk's latest backup here created. */
    static String whoseCheckpoint(String base, String repositoryId) {
        if (CheckpointNames.belongsTo(base, repositoryId)) {
            return "a coldcopy checkpoint of this repository, but not the one this disk's latest backup created";
        }
        if (CheckpointNames.isColdcopy(base)) {
            return "a coldcopy checkpoint of another repository";
        }
        return "a checkpoint coldcopy did not create";
    }

    private static BackupPlan full(BackingChain chain, String repositoryId, Clock clock, String why) {
        return new BackupPlan(SnapshotKind.FULL, "full: " + why, chain.virtualSize(),
                CheckpointPlan.full(chain, repositoryId, clock));
    }
}
