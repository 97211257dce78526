package dev.coldcopy.backup;

import java.time.Duration;
import java.util.Optional;
import java.util.Set;

import dev.coldcopy.checkpoint.CheckpointPlan;
import dev.coldcopy.checkpoint.CheckpointJournal;
import dev.coldcopy.checkpoint.CheckpointRotation;
import dev.coldcopy.qemu.BackingChain;
import dev.coldcopy.qemu.ExportServer;
import dev.coldcopy.qemu.QemuTools;
import dev.coldcopy.qemu.RunningExport;

/**
 * Everything one disk's backup holds, in the right order: the disk lock, then the checkpoint rotation (new
 * bitmap added while nothing holds the image), then the export. {@link #close()} releases them in reverse:
 * export stopped, then the rotation applied (old checkpoints removed if {@link #commit() committed}, the
 * new one removed otherwise), then the lock. For callers that cannot use try-with-resources across steps
 * (a Camel route keeps it in an exchange property).
 */
public final class DiskBackupSession implements AutoCloseable {

    private final DiskLock lock;
    private final CheckpointRotation rotation;
    private final RunningExport export;

    private DiskBackupSession(DiskLock lock, CheckpointRotation rotation, RunningExport export) {
        this.lock = lock;
        this.rotation = rotation;
        this.export = export;
    }

    /** Locks the disk, adds the next checkpoint, starts the export; on any failure undoes what it did and rethrows. */
    public static DiskBackupSession open(DiskLocks locks, Duration lockTimeout, QemuTools tools, CheckpointJournal journal,
            ExportServer exports, BackingChain chain, CheckpointPlan plan) {
        return open(locks.lock(chain.top().path(), lockTimeout), tools, journal, exports, chain, plan, Set.of());
    }

    /**
     * With the disk's lock already held, and the {@link Watchdog} of {@code runDir} running first, so that
     * not even a SIGKILL of this JVM leaves an export running or an uncommitted checkpoint behind.
     */
    public static DiskBackupSession open(DiskLock lock, QemuTools tools, RunDirectory runDir,
            ExportServer exports, BackingChain chain, CheckpointPlan plan, Set<String> stillNeeded) {
        try {
            Watchdog.ensureRunning(runDir, tools);
        } catch (RuntimeException e) {
            lock.close();
            throw e;
        }
        return open(lock, tools, runDir.journal(), exports, chain, plan, stillNeeded);
    }

    /**
     * With the disk's lock already held: the caller took it before inspecting and planning, so that two
     * backups of one disk cannot both plan the same next checkpoint. The session owns the lock from here
     * on (released on failure too). {@code stillNeeded}: checkpoints other disks of the repository build on.
     */
    public static DiskBackupSession open(DiskLock lock, QemuTools tools, CheckpointJournal journal,
            ExportServer exports, BackingChain chain, CheckpointPlan plan, Set<String> stillNeeded) {
        CheckpointRotation rotation = null;
        try {
            if (!lock.image().equals(chain.top().path().toAbsolutePath().normalize())) {
                throw new IllegalArgumentException("lock on " + lock.image() + " does not cover " + chain.top().path());
            }
            rotation = CheckpointRotation.begin(tools, journal, chain, plan, stillNeeded);
            RunningExport export = exports.start(chain, plan);
            return new DiskBackupSession(lock, rotation, export);
        } catch (RuntimeException e) {
            if (rotation != null) {
                rotation.close();
            }
            lock.close();
            throw e;
        }
    }

    public RunningExport export() {
        return export;
    }

    public Optional<String> createdCheckpoint() {
        return rotation.createdCheckpoint();
    }

    /** The snapshot manifest is written: keep the new checkpoint, drop the older ones at close. */
    public void commit() {
        rotation.commit();
    }

    @Override
    public void close() {
        try {
            export.close();
        } finally {
            try {
                rotation.close();
            } finally {
                lock.close();
            }
        }
    }
}
