package dev.coldcopy.repository.lock;

import dev.coldcopy.repository.ObjectNotFoundException;
import dev.coldcopy.repository.backend.RepositoryBackend;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lock objects under {@code locks/}, restic's design: a backup holds a SHARED lock while it may store or
 * reuse chunks, a prune holds an EXCLUSIVE one while it forgets snapshots and deletes chunks. A taker
 * first writes its own lock object, then lists the others; on a conflict it removes its own and tries
 * again later. Because every taker writes before it reads, of two that race at least one sees the
 * other, on any backend whose listing shows a completed write (a file system, SFTP, S3 since it became
 * strongly consistent). Holders rewrite their lock every {@link LockTimings#refreshEvery()}; one not
 * rewritten for {@link LockTimings#staleAfter()}, or whose holder ran on this host and has exited, is
 * stale: takers ignore it and a prune removes it.
 */
public final class RepositoryLocks {
    public static final String PREFIX = "locks/";
    private static final Logger LOG = LoggerFactory.getLogger(RepositoryLocks.class);

    private final RepositoryBackend backend;
    private final LockTimings timings;
    private final Clock clock;
    private final String host = ProcessIdentity.host();

    public RepositoryLocks(RepositoryBackend backend, LockTimings timings, Clock clock) {
        this.backend = backend;
        this.timings = timings;
        this.clock = clock;
    }

    public RepositoryLocks(RepositoryBackend backend) {
        this(backend, LockTimings.fromSystemProperties(), Clock.systemUTC());
    }

    public LockTimings timings() {
        return timings;
    }

    /** A lock object as listed: its key, what it says (empty if unreadable) and whether it is stale. */
    public record ListedLock(String key, Optional<LockRecord> record, boolean stale) {
        public String describe() {
            return record.map(LockRecord::describe).orElse("unreadable lock object " + key) + (stale ? " (stale)" : "");
        }
    }

    /**
     * Takes a lock, waiting up to {@code wait} for conflicting ones to go.
     *
     * @throws RepositoryLockedException naming a holder of a conflicting lock when the wait is over
     */
    public RepositoryLock acquire(LockMode mode, String purpose, Duration wait) throws IOException {
        Instant deadline = clock.instant().plus(wait);
        boolean told = false;
        while (true) {
            Instant now = clock.instant();
            String key = PREFIX + mode.label() + "-" + now.toEpochMilli() + "-" + random();
            LockRecord mine = new LockRecord();
            mine.mode = mode.label();
            mine.purpose = purpose;
            mine.host = host;
            mine.pid = ProcessIdentity.pid();
            mine.processStarted = ProcessIdentity.started();
            mine.created = now.toString();
            mine.refreshed = now.toString();
            backend.put(key, mine.toJson());
            List<ListedLock> conflicts = new ArrayList<>();
            for (ListedLock other : list()) {
                if (other.key().equals(key)) {
                    continue;
                }
                if (other.stale()) {
                    if (mode == LockMode.EXCLUSIVE) {
                        removeStale(other);
                    }
                    continue;
                }
                if (mode == LockMode.EXCLUSIVE || other.record().map(LockRecord::exclusive).orElse(false)) {
                    conflicts.add(other);
                }
            }
            if (conflicts.isEmpty()) {
                return new RepositoryLock(backend, key, mine, timings, clock);
            }
            backend.delete(key);
            if (!clock.instant().isBefore(deadline)) {
                throw new RepositoryLockedException("repository " + backend.describe() + " is locked: " + conflicts.get(0).describe()
                        + (conflicts.size() > 1 ? " and " + (conflicts.size() - 1) + " more" : "")
                        + "; gave up after waiting " + wait.toSeconds() + " s");
            }
            if (!told) {
                LOG.info("waiting for {} ({} lock wanted for {})", conflicts.get(0).describe(), mode.label(), purpose);
                told = true;
            }
            sleep(timings.poll().toMillis() + ThreadLocalRandom.current().nextLong(timings.poll().toMillis() + 1));
        }
    }

    /** every lock object, each read once */
    public List<ListedLock> list() throws IOException {
        Instant now = clock.instant();
        List<ListedLock> out = new ArrayList<>();
        for (String key : backend.list(PREFIX)) {
            byte[] json;
            try {
                json = backend.get(key);
            } catch (ObjectNotFoundException e) {
                continue; // released while we listed
            }
            Optional<LockRecord> r = LockRecord.parse(json);
            out.add(new ListedLock(key, r, r.map(x -> x.isStale(now, timings.staleAfter(), host)).orElse(true)));
        }
        out.sort((a, b) -> a.key().compareTo(b.key()));
        return out;
    }

    /** Removes the stale locks; with {@code all}, every lock (only when no coldcopy process uses the repository). */
    public List<ListedLock> removeStale(boolean all) throws IOException {
        List<ListedLock> removed = new ArrayList<>();
        for (ListedLock l : list()) {
            if (all || l.stale()) {
                backend.delete(l.key());
                removed.add(l);
            }
        }
        return removed;
    }

    private void removeStale(ListedLock l) throws IOException {
        backend.delete(l.key());
        LOG.warn("removed stale {}", l.describe());
    }

    private static String random() {
        byte[] b = new byte[4];
        ThreadLocalRandom.current().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static void sleep(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while waiting for a repository lock");
        }
    }
}
