package dev.coldcopy.repository.lock;

import java.time.Duration;

/**
 * How long locks live and how long their takers wait.
 *
 * @param staleAfter   a lock not refreshed for this long is stale: its holder is presumed dead
 * @param refreshEvery how often a holder rewrites its lock (well below {@code staleAfter})
 * @param poll         how often a waiting taker tries again (with up to as much again of random delay)
 * @param backupWait   how long a backup waits for a prune to finish before it fails
 */
public record LockTimings(Duration staleAfter, Duration refreshEvery, Duration poll, Duration backupWait) {
    /** restic's figures: refreshed every 5 minutes, stale after 30; a backup waits up to an hour for a prune */
    public static final LockTimings DEFAULT = new LockTimings(Duration.ofMinutes(30), Duration.ofMinutes(5), Duration.ofSeconds(2),
            Duration.ofHours(1));

    public LockTimings {
        if (refreshEvery.compareTo(staleAfter) >= 0) {
            throw new IllegalArgumentException("locks must be refreshed (every " + refreshEvery + ") more often than they go stale (" + staleAfter + ")");
        }
    }

    /**
     * The defaults, or the system properties {@code coldcopy.lock.stale-after-ms}, {@code coldcopy.lock.refresh-ms},
     * {@code coldcopy.lock.poll-ms} and {@code coldcopy.lock.backup-wait-ms} where set (for tests that must see
     * a lock go stale quickly).
     */
    public static LockTimings fromSystemProperties() {
        return new LockTimings(
                millis("coldcopy.lock.stale-after-ms", DEFAULT.staleAfter),
                millis("coldcopy.lock.refresh-ms", DEFAULT.refreshEvery),
                millis("coldcopy.lock.poll-ms", DEFAULT.poll),
                millis("coldcopy.lock.backup-wait-ms", DEFAULT.backupWait));
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
