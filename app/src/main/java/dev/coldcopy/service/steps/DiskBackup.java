package dev.coldcopy.service.steps;

import dev.coldcopy.backup.DiskBackupSession;
import dev.coldcopy.backup.DiskLock;
import dev.coldcopy.qemu.BackingChain;
import dev.coldcopy.repository.BackupStatistics;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotHeader;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.SnapshotKind;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.repository.SnapshotWriter;
import dev.coldcopy.repository.lock.RepositoryLock;
import dev.coldcopy.service.BackupEngine;
import dev.coldcopy.service.BackupInterruptedException;
import dev.coldcopy.service.BackupProgress;
import dev.coldcopy.service.DiskJob;
import dev.coldcopy.service.plan.BackupPlan;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * What one disk's backup holds between the steps of {@code routes/backup.yaml}: the disk lock and the disk's
 * lease in the repository, what the repository holds of the disk, the chain and plan, the export session (new
 * checkpoint + NBD export) and the snapshot being written. It travels in the
 * exchange property {@value dev.coldcopy.service.ColdcopyHeaders#DISK_BACKUP}; each step adds what it made,
 * and {@link #close()} (the route's {@code doFinally}) undoes whatever was not committed, in reverse order.
 * An interrupt ({@link #abort()}, from another thread) rolls back at once; a step that then tries to add a
 * resource gets it closed again and fails.
 */
public final class DiskBackup implements AutoCloseable {

    private final DiskJob job;
    private final BackupEngine engine;
    private final BackupProgress progress;
    private final Instant started = Instant.now();
    private Path image;
    private DiskLock lock;
    private RepositoryLock lease;
    private Repository.LatestSnapshots latest;
    private BackingChain chain;
    private BackupPlan plan;
    private Optional<SnapshotManifest> parent = Optional.empty();
    private Repository repository;
    private DiskBackupSession session;
    private SnapshotWriter writer;
    private SnapshotId snapshot;
    private long bytesRead;
    private long readStartedNanos;
    private volatile boolean aborted;
    private boolean closed;

    private DiskBackup(DiskJob job, BackupEngine engine) {
        this.job = job;
        this.engine = engine;
        this.progress = engine.progress();
    }

    /** A new disk backup, known to the engine from here on (so that an interrupt finds it). */
    static DiskBackup begin(BackupEngine engine, DiskJob job) {
        DiskBackup backup = new DiskBackup(job, engine);
        engine.register(backup);
        return backup;
    }

    /** The disk backup this exchange carries. */
    static DiskBackup of(org.apache.camel.Exchange exchange) {
        DiskBackup backup = exchange.getProperty(dev.coldcopy.service.ColdcopyHeaders.DISK_BACKUP, DiskBackup.class);
        if (backup == null) {
            throw new IllegalStateException("no disk backup on this exchange (property "
                    + dev.coldcopy.service.ColdcopyHeaders.DISK_BACKUP + "): run the lockDisk step first");
        }
        return backup;
    }

    public DiskJob job() {
        return job;
    }

    public String label() {
        return job.label();
    }

    BackupEngine engine() {
        return engine;
    }

    /** The image's real path: symlinks resolved and checked against the allowed roots. */
    Path image() {
        return require(image, "lockDisk");
    }

    public BackingChain chain() {
        return require(chain, "inspectChain");
    }

    public BackupPlan plan() {
        return require(plan, "planBackup");
    }

    DiskBackupSession session() {
        return require(session, "openExport");
    }

    Optional<SnapshotManifest> parent() {
        return parent;
    }

    Repository repository() {
        return require(repository, "planBackup");
    }

    /** The snapshot id once {@code commitSnapshot} wrote the manifest. */
    public Optional<SnapshotId> snapshot() {
        return Optional.ofNullable(snapshot);
    }

    long bytesRead() {
        return bytesRead;
    }

    Duration elapsed() {
        return Duration.between(started, Instant.now());
    }

    private <T> T require(T value, String step) {
        if (value == null) {
            throw new IllegalStateException(label() + ": step " + step + " has not run yet in this route");
        }
        return value;
    }

    /** Holds the disk's lock; an interrupt that came first releases it again at once. */
    synchronized void locked(Path image, DiskLock lock) {
        if (aborted) {
            lock.close();
            checkNotAborted();
        }
        this.image = image;
        this.lock = lock;
    }

    /** Holds the disk's lease in the repository (no other node backs the disk up meanwhile). */
    synchronized void leased(Repository repository, RepositoryLock lease) {
        if (aborted) {
            lease.close();
            checkNotAborted();
        }
        this.repository = repository;
        this.lease = lease;
    }

    /** What the repository holds of this disk, read under the lease (planBackup needs it again). */
    void found(Repository.LatestSnapshots latest) {
        this.latest = latest;
    }

    /** What findEventSnapshot read, if that step ran in this route. */
    Optional<Repository.LatestSnapshots> latest() {
        return Optional.ofNullable(latest);
    }

    void inspected(BackingChain chain) {
        this.chain = chain;
    }

    void planned(Repository repository, BackupPlan plan, Optional<SnapshotManifest> parent) {
        this.repository = repository;
        this.plan = plan;
        this.parent = parent;
    }

    /** Opens the export session (which takes over the lock) unless an interrupt came first. */
    synchronized void openSession(java.util.function.Function<DiskLock, DiskBackupSession> open) {
        checkNotAborted();
        session = open.apply(lock);
        readStartedNanos = System.nanoTime();
    }

    /** The snapshot this backup fills, opened on the first chunk: its header names the checkpoint just created. */
    synchronized SnapshotWriter writer() throws IOException {
        if (writer == null) {
            checkNotAborted();
            SnapshotHeader header = new SnapshotHeader(job.event().vm(), job.disk().target(), job.disk().image().toString(),
                    chain().virtualSize(), plan().kind(), plan().reason(), plan().baseBitmap().orElse(null),
                    session().createdCheckpoint().orElse(null), job.event().id());
            writer = repository().newSnapshot(header, plan().kind() == SnapshotKind.INCREMENTAL ? parent : Optional.empty());
            if (!chain().top().isQcow2()) {
                writer.chunkPerWindow();   // a raw disk is read whole every time: unchanged windows must give the same chunks
            }
        }
        return writer;
    }

    void putData(long offset, byte[] data, int length) throws IOException {
        writer().putData(offset, data, length);
        bytesRead += length;
        progress(offset + length);
    }

    void putZero(long offset, long length) throws IOException {
        writer().putZero(offset, length);
        progress(offset + length);
    }

    private void progress(long position) {
        progress.update(label(), position, chain().virtualSize(), bytesRead, System.nanoTime() - readStartedNanos);
    }

    Duration readTime() {
        return Duration.ofNanos(System.nanoTime() - readStartedNanos);
    }

    /** Writes the manifest: the snapshot exists from here on. An interrupted backup writes none. */
    synchronized SnapshotId commitSnapshot(BackupStatistics read) throws IOException {
        checkNotAborted();
        if (lease != null) {
            lease.confirm(); // another node took the disk over while this one stalled: it commits, not we
        }
        snapshot = writer().commit(read);
        return snapshot;
    }

    BackupStatistics statistics() throws IOException {
        return writer().statistics();
    }

    /** Keeps the new checkpoint as the next base: only once the snapshot that records it is committed. */
    synchronized void commitCheckpoint() {
        if (snapshot == null) {
            throw new IllegalStateException(label() + ": commitCheckpoint needs a committed snapshot first (commitSnapshot):"
                    + " the next incremental would build on a checkpoint no snapshot records");
        }
        session().commit();
    }

    private void checkNotAborted() {
        if (aborted) {
            throw new BackupInterruptedException(label() + ": interrupted");
        }
    }

    /**
     * Stops this backup from another thread (an interrupt): waits for a step holding the backup (lock, open,
     * commit), then undoes what is not committed. The backup's own thread then fails and finds nothing to close.
     */
    public void abort() {
        aborted = true;
        close();
    }

    /**
     * Undoes what is not committed: unfinished snapshot dropped, export stopped, checkpoint rolled back, lock
     * released, and the lease last (until the image is left as it should be, no other node may start on it).
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            progress.finish(label());
            if (writer != null && snapshot == null) {
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
                try {
                    if (lock != null) {
                        lock.close(); // the session owns it once open; closing twice is fine
                    }
                } finally {
                    if (lease != null) {
                        lease.close();
                    }
                    engine.unregister(this);
                }
            }
        }
    }
}
