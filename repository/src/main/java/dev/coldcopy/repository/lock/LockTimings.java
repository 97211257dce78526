package dev.coldcopy.repository.lock;

import java.time.Duration;

/**
 * How long locks and leases live and how long their takers wait.
 *
 * @param staleAfter        a lock not refreshed for this long is stale: its holder is presumed dead
 * @param refreshEvery      how often a holder rewrites its lock (well below {@code staleAfter})
 * @param poll              how often a waiting taker tries again (with up to as much again of random delay)
 * @param backupWait        how long a backup waits for a prune to finish before it fails
 * @param leaseStaleAfter   a disk lease not refreshed for this long may be taken over by another node
 * @param leaseRefreshEvery how often a lease holder rewrites its lease
 */
public record LockTimings(Duration staleAfter, Duration refreshEvery, Duration poll, Duration backupWait,
                          Duration leaseStaleAfter, Duration leaseRefreshEvery) {
    /**
     * Locks: restic's figures, refreshed every 5 minutes, stale after 30; a backup waits up to an hour for a prune.
     * Leases expire sooner: a lease only keeps a second node off one disk, and a node killed on another host
     * should hold up that disk's redelivered backup for minutes (within the default disk-lock wait of 10),
     * not half an hour. A holder whose lease was taken over refuses to commit, so a short expiry costs a retry
     * at worst, never a wrong snapshot.
     */
    public static final LockTimings DEFAULT = new LockTimings(Duration.ofMinutes(30), Duration.ofMinutes(5), Duration.ofSeconds(2),
            Duration.ofHours(1), Duration.ofMinutes(5), Duration.ofMinutes(1));

    public LockTimings {
        if (refreshEvery.compareTo(staleAfter) >= 0) {
            throw new IllegalArgumentException("locks must be refreshed (every " + refreshEvery + ") more often than they go stale (" + staleAfter + ")");
        }
        if (leaseRefreshEvery.compareTo(leaseStaleAfter) >= 0) {
            throw new IllegalArgumentException("leases must be refreshed (every " + leaseRefreshEvery + ") more often than they go stale ("
                    + leaseStaleAfter + ")");
        }
    }

    /** lock timings with the default lease timings */
    public LockTimings(Duration staleAfter, Duration refreshEvery, Duration poll, Duration backupWait) {
        this(staleAfter, refreshEvery, poll, backupWait, DEFAULT.leaseStaleAfter, DEFAULT.leaseRefreshEvery);
    }

    /** the same, with leases going stale after {@code staleAfter} and refreshed every {@code refreshEvery} */
    public LockTimings withLeases(Duration staleAfter, Duration refreshEvery) {
        return new LockTimings(this.staleAfter, this.refreshEvery, poll, backupWait, staleAfter, refreshEvery);
    }

    /**
     * The defaults, or the system properties {@code coldcopy.lock.stale-after-ms}, {@code coldcopy.lock.refresh-ms},
     * {@code coldcopy.lock.poll-ms}, {@code coldcopy.lock.backup-wait-ms}, {@code coldcopy.lock.lease-stale-after-ms}
     * and {@code coldcopy.lock.lease-refresh-ms} where set (for tests that must see a lock go stale quickly).
     */
    public static LockTimings fromSystemProperties() {
        return new LockTimings(
                millis("coldcopy.lock.stale-after-ms", DEFAULT.staleAfter),
                millis("coldcopy.lock.refresh-ms", DEFAULT.refreshEvery),
                millis("coldcopy.lock.poll-ms", DEFAULT.poll),
                millis("coldcopy.lock.backup-wait-ms", DEFAULT.backupWait),
                millis("coldcopy.lock.lease-stale-after-ms", DEFAULT.leaseStaleAfter),
                millis("coldcopy.lock.lease-refresh-ms", DEFAULT.leaseRefreshEvery));
    }

    private static Duration millis(String property, Duration otherwise) {
        String v = System.getProperty(property);
        if (v == null || v.isBlank()) {
            return otherwise;
        }
        try {
            return Duration.ofMillis(Long.parseLong(v.strip()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(property + " must be a number of milliseconds, not '" + v + "'");
        }
    }
}
