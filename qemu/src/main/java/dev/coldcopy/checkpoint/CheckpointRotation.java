package dev.coldcopy.checkpoint;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.coldcopy.qemu.BackingChain;
import dev.coldcopy.qemu.Bitmap;
import dev.coldcopy.qemu.QemuTools;

/**
 * KubeVirt's offline rotation of one disk's checkpoint, for one repository:
 * <ol>
 * <li>{@link #begin}: add the next checkpoint bitmap to the top image <em>before</em> the export starts
 * (qemu-img needs the write lock, which a running export holds), journaled first;</li>
 * <li>{@link #commit}: the caller has written the manifest: the new bitmap is now this repository's base;</li>
 * <li>{@link #close}: after the export has stopped (declare the rotation <em>before</em> the export in
 * try-with-resources, so it closes after it): if committed, remove this repository's older coldcopy bitmaps
 * from the top image; otherwise remove the new bitmap again, so the previous one stays the base.</li>
 * </ol>
 * Only the top image is ever written. Only bitmaps named {@code coldcopy.<this repository>.*} are ever
 * removed: libvirt's, other tools' and other repositories' bitmaps are read, never deleted. close() does not
 * throw: a failure to remove is logged (and, for an uncommitted bitmap, left in the journal for the reaper).
 */
public final class CheckpointRotation implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CheckpointRotation.class);

    private final QemuTools tools;
    private final CheckpointJournal journal;
    private final Path top;
    private final String repositoryId;
    private final Optional<String> created;
    private final List<String> obsolete;
    private final CheckpointJournal.Entry entry;
    private boolean committed;
    private boolean closed;

    private CheckpointRotation(QemuTools tools, CheckpointJournal journal, Path top, String repositoryId,
            Optional<String> created, List<String> obsolete, CheckpointJournal.Entry entry) {
        this.tools = tools;
        this.journal = journal;
        this.top = top;
        this.repositoryId = repositoryId;
        this.created = created;
        this.obsolete = obsolete;
        this.entry = entry;
    }

    /**
     * Adds {@code plan.nextCheckpoint()} to the top image (nothing when the plan has none: a raw disk).
     *
     * @throws dev.coldcopy.qemu.VmRunningException the image is open for writing elsewhere
     */
    public static CheckpointRotation begin(QemuTools tools, CheckpointJournal journal, BackingChain chain, CheckpointPlan plan) {
        return begin(tools, journal, chain, plan, Set.of());
    }

    /**
     * As {@link #begin(QemuTools, CheckpointJournal, BackingChain, CheckpointPlan)}, keeping {@code stillNeeded}:
     * the checkpoints a later backup still builds on. One image backed up under two names (two VMs, two
     * targets) has one checkpoint per name; removing the other name's would make its next backup a full one.
     * Likewise a delta must keep the checkpoint of the disk's own latest full or incremental snapshot.
     */
    public static CheckpointRotation begin(QemuTools tools, CheckpointJournal journal, BackingChain chain, CheckpointPlan plan,
            Set<String> stillNeeded) {
        Path top = chain.top().path();
        List<String> obsolete = chain.top().bitmaps().stream().map(Bitmap::name)
                .filter(n -> CheckpointNames.belongsTo(n, plan.repositoryId()))
                .filter(n -> plan.nextCheckpoint().map(next -> !next.equals(n)).orElse(true))
                .filter(n -> !stillNeeded.contains(n))
                .toList();
        if (plan.nextCheckpoint().isEmpty()) {
            return new CheckpointRotation(tools, journal, top, plan.repositoryId(), Optional.empty(), obsolete, null);
        }
        String next = plan.nextCheckpoint().get();
        CheckpointJournal.Entry entry = journal.record(top, next);
        try {
            tools.addBitmap(top, next, plan.granularity());
        } catch (RuntimeException e) {
            journal.forget(entry);
            throw e;
        }
        LOG.info("added checkpoint {} to {}", next, top);
        return new CheckpointRotation(tools, journal, top, plan.repositoryId(), Optional.of(next), obsolete, entry);
    }

    /** The checkpoint this backup created (record it in the manifest). */
    public Optional<String> createdCheckpoint() {
        return created;
    }

    /** Call once the snapshot manifest is written. The new bitmap stays; older ones go at {@link #close}. */
    public synchronized void commit() {
        if (closed) {
            throw new IllegalStateException("checkpoint rotation of " + top + " is already closed");
        }
        committed = true;
        if (entry != null) {
            journal.forget(entry);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (committed) {
            for (String old : obsolete) {
                try {
                    tools.removeBitmap(top, old);
                    LOG.info("removed obsolete checkpoint {} of repository {} from {}", old, repositoryId, top);
                } catch (RuntimeException e) {
                    LOG.warn("could not remove obsolete checkpoint {} from {} (the next backup retries): {}", old, top,
                            e.getMessage());
                }
            }
        } else if (created.isPresent()) {
            try {
                tools.removeBitmap(top, created.get());
                journal.forget(entry);
                LOG.info("backup not committed: removed new checkpoint {} from {}", created.get(), top);
            } catch (RuntimeException e) {
                LOG.warn("could not remove uncommitted checkpoint {} from {} (the reaper retries at the next start): {}",
                        created.get(), top, e.getMessage());
            }
        }
    }
}
