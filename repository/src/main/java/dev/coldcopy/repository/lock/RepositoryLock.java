package dev.coldcopy.repository.lock;

import dev.coldcopy.repository.backend.RepositoryBackend;
import java.io.IOException;
import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A held lock or lease. A daemon thread rewrites it every {@link LockTimings#refreshEvery()} (a lease every
 * {@link LockTimings#leaseRefreshEvery()}) so others see its holder alive. If the object has vanished (a prune
 * took the lock for stale, or another node took the lease over: this process was frozen for longer than the
 * staleness time) it is not written back: the lock is lost, and {@link #confirm} fails, so a backup never
 * commits a snapshot whose chunks a prune may have collected meanwhile, nor one of a disk another node now
 * backs up.
 */
public final class RepositoryLock implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RepositoryLock.class);

    private final RepositoryBackend backend;
    private final String key;
    private final LockRecord record;
    private final Clock clock;
    private final ScheduledExecutorService refresher;
    private volatile boolean lost;
    private volatile boolean released;

    /**
     * The lock objects this process holds now. One of its own objects not in here was not released because the
     * store was out of reach when it let go (a failed backup): stale at once, not only after its expiry, or this
     * process (alive, so its objects look live) would wait for itself.
     */
    private static final java.util.Set<String> HELD = java.util.concurrent.ConcurrentHashMap.newKeySet();

    static boolean heldByThisProcess(String key) {
        return HELD.contains(key);
    }

    /** Before a taker writes its object: from then on it is this process's, until {@link #notTaken}. */
    static void taking(String key) {
        HELD.add(key);
    }

    /** The taker gave the object up (a conflict, or the write failed). */
    static void notTaken(String key) {
        HELD.remove(key);
    }

    RepositoryLock(RepositoryBackend backend, String key, LockRecord record, java.time.Duration refreshEvery, Clock clock) {
        this.backend = backend;
        this.key = key;
        HELD.add(key);
        this.record = record;
        this.clock = clock;
        this.refresher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "coldcopy-lock-refresh");
            t.setDaemon(true);
            return t;
        });
        long every = refreshEvery.toMillis();
        refresher.scheduleWithFixedDelay(this::refresh, every, every, TimeUnit.MILLISECONDS);
    }

    public String key() {
        return key;
    }

    public boolean exclusive() {
        return record.exclusive();
    }

    /** what the object says: who holds it, since when, for what */
    public String describe() {
        return record.describe();
    }

    private synchronized void refresh() {
        if (released || lost) {
            return;
        }
        try {
            if (!backend.exists(key)) {
                lost = true;
                LOG.warn("our {} was removed by another process (taken for stale)", record.describe());
                return;
            }
            record.refreshed = clock.instant().toString();
            backend.put(key, record.toJson());
        } catch (IOException | RuntimeException e) {
            LOG.warn("refreshing {} failed (will try again): {}", key, e.getMessage());
        }
    }

    /** Fails unless the lock is still held: call it right before a commit that relies on the lock. */
    public void confirm() throws IOException {
        if (lost || !backend.exists(key)) {
            lost = true;
            throw new RepositoryLockedException(LockMode.LEASE.label().equals(record.mode)
                    ? "the lease of this " + record.purpose + " was taken over by another node while it ran (this process "
                            + "did not refresh it in time): nothing is committed"
                    : "the repository lock of this " + record.purpose + " was removed while it ran "
                            + "(taken for stale by another process): nothing is committed");
        }
    }

    @Override
    public synchronized void close() {
        if (released) {
            return;
        }
        released = true;
        HELD.remove(key);
        refresher.shutdownNow();
        try {
            backend.delete(key);
        } catch (IOException | RuntimeException e) {
            LOG.warn("releasing {} failed: {} (it goes stale after its holder exits)", key, e.getMessage());
        }
    }
}
