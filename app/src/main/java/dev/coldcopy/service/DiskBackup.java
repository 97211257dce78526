package dev.coldcopy.service;

import dev.coldcopy.backup.DiskBackupSession;
import dev.coldcopy.backup.DiskLock;
import dev.coldcopy.checkpoint.CheckpointNames;
import dev.coldcopy.qemu.Bitmap;
import dev.coldcopy.checkpoint.BackupKind;
import dev.coldcopy.checkpoint.BackupPlan;
import dev.coldcopy.checkpoint.BackupPlanner;
import dev.coldcopy.checkpoint.PreviousBackup;
import dev.coldcopy.event.BadEventException;
import dev.coldcopy.qemu.BackingChain;
import dev.coldcopy.qemu.RunningExport;
import dev.coldcopy.qemu.VmRunningException;
import dev.coldcopy.repository.BackupStatistics;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotHeader;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.SnapshotKind;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.repository.SnapshotWriter;
import dev.coldcopy.security.RefusedException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One disk's backup from plan to commit, holding what must be undone: the per-disk lock, the new
 * checkpoint bitmap, the NBD export (together a {@link DiskBackupSession}) and the unfinished snapshot.
 * {@link #close()} undoes whatever {@link #commit()} did not make permanent.
 */
public final class DiskBackup implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DiskBackup.class);

    private final DiskJob job;
    private final Instant started = Instant.now();
    private BackupPlan plan;
    private DiskBackupSession session;
    private SnapshotWriter writer;
    private Repository repository;
    private SnapshotId committed;
    private long bytesRead;
    private long bytesZero;
    private Instant readStarted;
    private long readStartedNanos;
    private final BackupProgress progress;
    private DiskLock lock;
    private BackupEngine engine;
    private volatile boolean aborted;
    private boolean closed;

    private DiskBackup(DiskJob job, BackupProgress progress) {
        this.job = job;
        this.progress = progress;
    }

    /**
     * Locks the disk, inspects its chain, plans full/incremental/delta, adds the next checkpoint and
     * starts the export. Anything started is undone again if a later step fails.
     *
     * @throws BadEventException for what retrying cannot fix: image refused or missing, not qcow2, VM running
     * @throws BackupInterruptedException coldcopy is stopping (the interrupt arrived before or during this)
     */
    public static DiskBackup prepare(BackupEngine engine, DiskJob job) throws IOException {
        DiskBackup backup = new DiskBackup(job, engine.progress());
        engine.register(backup); // from here an interrupt finds it (and refuses it once coldcopy is stopping)
        backup.engine = engine;
        try {
            backup.start(engine);
            return backup;
        } catch (RuntimeException | IOException e) {
            backup.close();
            throw e;
        }
    }

    private void start(BackupEngine engine) throws IOException {
        String label = job.label();
        Path image;
        try {
            image = engine.inspector().realPath(job.disk().image());
        } catch (RefusedException e) {
            throw new BadEventException(label + ": " + Reasons.oneLine(e));
        }
        // The disk is locked before it is inspected and planned: two backups of one disk must not both plan
        // from the same bitmaps (they would pick the same next checkpoint name).
        DiskLock held = engine.runDirectory().diskLocks().lock(image, engine.settings().diskLockWait());
        synchronized (this) {
            lock = held;
            checkNotAborted();
        }
        BackingChain chain;
        try {
            chain = engine.inspector().inspect(image);
        } catch (VmRunningException e) {
            throw new BadEventException(label + ": " + Reasons.oneLine(e));
        } catch (RefusedException e) {
            throw new BadEventException(label + ": " + Reasons.oneLine(e));
        }
        if (!chain.top().isQcow2()) {
            throw new BadEventException(label + ": " + chain.top().path() + " is " + chain.top().format()
                    + ", not qcow2: coldcopy backs up qcow2 disks only");
        }
        repository = engine.repository();
        Optional<SnapshotManifest> parent = repository.latestRestorable(job.event().vm(), job.disk().target());
        Optional<PreviousBackup> previous = parent
                .flatMap(m -> Optional.ofNullable(m.header().checkpointCreated()).map(cp -> new PreviousBackup(cp, m.virtualSize())));
        plan = BackupPlanner.plan(chain, repository.id(), job.event().checkpoint(), previous, Clock.systemUTC());
        LOG.info("{}: plan {} ({})", label, plan.kind().label(), plan.reason());
        Set<String> stillNeeded = checkpointsOtherDisksNeed(chain);
        synchronized (this) {
            checkNotAborted();
            try {
                session = DiskBackupSession.open(lock, engine.tools(), engine.runDirectory(), engine.exports(), chain, plan,
                        stillNeeded);
            } catch (VmRunningException e) {
                throw new BadEventException(label + ": " + Reasons.oneLine(e));
            }
            SnapshotHeader header = new SnapshotHeader(job.event().vm(), job.disk().target(),
                    job.disk().image().toString(), chain.virtualSize(), kind(plan.kind()), plan.reason(),
                    plan.baseBitmap().orElse(null), session.createdCheckpoint().orElse(null));
            writer = repository.newSnapshot(header, plan.kind() == BackupKind.INCREMENTAL ? parent : Optional.empty());
        }
        readStarted = Instant.now();
        readStartedNanos = System.nanoTime();
    }

    /**
     * The checkpoints on this image that another (vm, disk) of this repository builds its next backup on:
     * one image backed up under two names has one checkpoint per name, and neither may remove the other's.
     * Only asked when this repository has an older checkpoint on the image (one manifest read per disk then).
     */
    private Set<String> checkpointsOtherDisksNeed(BackingChain chain) throws IOException {
        List<String> ours = chain.top().bitmaps().stream().map(Bitmap::name)
                .filter(n -> CheckpointNames.belongsTo(n, repository.id())).toList();
        if (ours.isEmpty()) {
            return Set.of();
        }
        Set<String> needed = new HashSet<>();
        for (Repository.DiskName other : repository.disks()) {
            if (other.vm().equals(job.event().vm()) && other.disk().equals(job.disk().target())) {
                continue;
            }
            repository.latestRestorable(other.vm(), other.disk())
                    .map(m -> m.header().checkpointCreated())
                    .filter(ours::contains)
                    .ifPresent(cp -> {
                        needed.add(cp);
                        LOG.info("{}: keeping checkpoint {}: {}/{} (the same image) builds on it", job.label(), cp,
                                other.vm(), other.disk());
                    });
        }
        return needed;
    }

    private void checkNotAborted() {
        if (aborted) {
            throw new BackupInterruptedException(job.label() + ": interrupted");
        }
    }

    private static SnapshotKind kind(BackupKind kind) {
        return switch (kind) {
            case FULL -> SnapshotKind.FULL;
            case INCREMENTAL -> SnapshotKind.INCREMENTAL;
            case DELTA -> SnapshotKind.DELTA;
        };
    }

    public DiskJob job() {
        return job;
    }

    public BackupPlan plan() {
        return plan;
    }

    public RunningExport export() {
        return session.export();
    }

    /** The NBD meta context to read: the merged dirty bitmap, or allocation for a full backup. */
    public String metaContext() {
        return session.export().dirtyBitmapContext().orElse("base:allocation");
    }

    public void putData(long offset, byte[] data, int length) throws IOException {
        writer.putData(offset, data, length);
        bytesRead += length;
        progress(offset + length);
    }

    public void putZero(long offset, long length) throws IOException {
        writer.putZero(offset, length);
        bytesZero += length;
        progress(offset + length);
    }

    private void progress(long position) {
        progress.update(job.label(), position, plan.virtualSize(), bytesRead, System.nanoTime() - readStartedNanos);
    }

    /**
     * Writes the manifest (the snapshot exists from here on) and marks the checkpoint rotation
     * committed: when the session closes, the new bitmap stays and this repository's older ones go.
     */
    public synchronized BackupResult commit() throws IOException {
        checkNotAborted(); // an interrupted backup writes no manifest
        Duration readTime = Duration.between(readStarted, Instant.now());
        committed = writer.commit(BackupStatistics.read(bytesRead, readTime));
        session.commit();
        Duration total = Duration.between(started, Instant.now());
        BackupStatistics stats = writer.statistics();
        LOG.info("{}: committed {} snapshot {}: read {} in {} ms ({} MiB/s), stored {}",
                job.label(), plan.kind().label(), committed, bytes(bytesRead), readTime.toMillis(),
                String.format("%.1f", bytesRead / 1048576.0 * 1000.0 / Math.max(1, readTime.toMillis())),
                bytes(stats.bytesStored()));
        return BackupResult.success(job, committed.toString(), plan.kind().label(), plan.reason(),
                bytesRead, stats.bytesStored(), total, session.createdCheckpoint());
    }

    /** Exact below a MiB (an incremental of a few blocks must not read "0 MiB"), MiB above. */
    private static String bytes(long n) {
        return n < (1 << 20) ? n + " bytes" : String.format("%.1f MiB", n / 1048576.0);
    }

    /**
     * Stops this backup from another thread (an interrupt): waits for a step in progress (start or commit),
     * then undoes what is not committed. The backup's own thread then fails and finds nothing left to close.
     */
    public void abort() {
        aborted = true;
        close();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            progress.finish(job.label());
            if (writer != null && committed == null) {
                writer.abort();
            }
        } finally {
            try {
                if (session != null) {
                    // export stopped first (it holds the image lock), then the checkpoint: without a commit the
                    // new bitmap goes so the old one stays the base; with one, the obsolete ones go
                    session.close();
                }
            } finally {
                if (lock != null) {
                    lock.close(); // held before the session existed; closing twice is fine
                }
                if (engine != null) {
                    engine.unregister(this);
                }
            }
        }
    }
}
