package dev.coldcopy.repository.lock;

import dev.coldcopy.repository.ObjectNotFoundException;
import dev.coldcopy.repository.backend.RepositoryBackend;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
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
 *
 * <p>Leases, the same way beside them: {@code locks/lease-HASH-…} keeps one disk to one node while it backs
 * the disk up (two nodes of a fleet that got the same disk's events never back it up at once), or one VM's
 * backup record while it is checked and written. HASH is the first 16 hex digits of the SHA-256 of what is
 * leased ({@code disk}, VM and disk name, or {@code vm} and VM name), so a lease conflicts only with leases
 * on the same thing (two things whose hashes collided would merely take turns); the lease object names the
 * disk for people. Repository locks never count leases (prune neither waits for them nor makes them wait);
 * a lease expires after {@link LockTimings#leaseStaleAfter()} without a refresh, and is then taken over by
 * the next taker (and removed by a prune or {@code unlock}). Leases sit in {@code locks/} itself, not in a
 * folder per disk: a file or SFTP repository would keep an empty folder per disk ever backed up, which every
 * lock listing would walk.
 */
public final class RepositoryLocks {
    public static final String PREFIX = "locks/";
    /** the keys of leases begin so: {@code locks/lease-HASH-TIME-RANDOM} */
    public static final String LEASES = PREFIX + LockMode.LEASE.label() + "-";
    private static final int LEASE_HASH_HEX = 16;
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
     * Takes a lock, waiting up to {@code wait} for conflicting ones to go. A shared taker reads only the
     * exclusive locks (the key names the mode): the others cannot conflict with it, and with a fleet of nodes
     * backing up at once there are many of them.
     *
     * @throws RepositoryLockedException naming a holder of a conflicting lock when the wait is over
     */
    public RepositoryLock acquire(LockMode mode, String purpose, Duration wait) throws IOException {
        if (mode == LockMode.LEASE) {
            throw new IllegalArgumentException("a lease is taken with leaseDisk or leaseVm");
        }
        Instant deadline = clock.instant().plus(wait);
        boolean told = false;
        while (true) {
            Instant now = clock.instant();
            String key = PREFIX + mode.label() + "-" + now.toEpochMilli() + "-" + random();
            LockRecord mine = record(mode, purpose, now);
            writeOwn(key, mine);
            Predicate<String> mayConflict = mode == LockMode.EXCLUSIVE ? k -> true
                    : k -> k.startsWith(PREFIX + LockMode.EXCLUSIVE.label() + "-");
            List<String> others = repositoryLockKeys().stream().filter(k -> !k.equals(key)).filter(mayConflict).toList();
            List<ListedLock> conflicts = new ArrayList<>();
            for (ListedLock other : read(others, timings.staleAfter())) {
                if (other.stale()) {
                    if (mode == LockMode.EXCLUSIVE) {
                        removeStale(other);
                    }
                    continue;
                }
                conflicts.add(other);
            }
            if (conflicts.isEmpty()) {
                return new RepositoryLock(backend, key, mine, timings.leaseRefreshEvery(), clock);
            }
            withdraw(key);
            if (!clock.instant().isBefore(deadline)) {
                throw new RepositoryLockedException("repository " + backend.describe() + " is locked: " + conflicts.get(0).describe()
                        + (conflicts.size() > 1 ? " and " + (conflicts.size() - 1) + " more" : "")
                        + "; gave up after waiting " + seconds(wait));
            }
            if (!told) {
                LOG.info("waiting for {} ({} lock wanted for {})", conflicts.get(0).describe(), mode.label(), purpose);
                told = true;
            }
            pause(deadline);
        }
    }

    /**
     * Takes the lease on one disk: no other holder of a lease on the same VM and disk, on any node, until it
     * is closed (or expires: a holder that stops refreshing it for {@link LockTimings#leaseStaleAfter()}, or
     * whose process on this host is gone, loses it to the next taker). Waits up to {@code wait}.
     *
     * @throws RepositoryLockedException naming the holder (host, pid) when the wait is over
     */
    public RepositoryLock leaseDisk(String vm, String disk, String purpose, Duration wait) throws IOException {
        return lease(LEASES + hash("disk\u0000" + vm + "\u0000" + disk) + "-", "disk " + vm + "/" + disk, purpose, wait);
    }

    /** As {@link #leaseDisk}, for one VM's backup record (checked, then written, by one node at a time). */
    public RepositoryLock leaseVm(String vm, String purpose, Duration wait) throws IOException {
        return lease(LEASES + hash("vm\u0000" + vm) + "-", "VM " + vm, purpose, wait);
    }

    private RepositoryLock lease(String keyStart, String subject, String purpose, Duration wait) throws IOException {
        Instant deadline = clock.instant().plus(wait);
        boolean told = false;
        while (true) {
            Instant now = clock.instant();
            String key = keyStart + now.toEpochMilli() + "-" + random();
            LockRecord mine = record(LockMode.LEASE, purpose, now);
            writeOwn(key, mine);
            List<ListedLock> holders = new ArrayList<>();
            List<String> same = directChildren(backend.list(PREFIX)).stream()
                    .filter(k -> k.startsWith(keyStart) && !k.equals(key)).toList();
            for (ListedLock other : read(same, timings.leaseStaleAfter())) {
                if (other.stale()) {
                    // its holder died or froze: the disk is ours now; a frozen holder finds its lease gone and
                    // refuses to commit
                    backend.delete(other.key());
                    LOG.warn("took over {} from {}", subject, other.describe());
                    continue;
                }
                holders.add(other);
            }
            if (holders.isEmpty()) {
                return new RepositoryLock(backend, key, mine, timings.leaseRefreshEvery(), clock);
            }
            withdraw(key);
            if (!clock.instant().isBefore(deadline)) {
                throw new RepositoryLockedException(subject + " is held by another coldcopy: " + holders.get(0).describe()
                        + "; gave up after waiting " + seconds(wait));
            }
            if (!told) {
                LOG.info("waiting for {} ({} wanted for {})", holders.get(0).describe(), subject, purpose);
                told = true;
            }
            pause(deadline);
        }
    }

    /** every repository lock object (shared and exclusive, not leases), each read once */
    public List<ListedLock> list() throws IOException {
        return read(repositoryLockKeys(), timings.staleAfter());
    }

    /** every lease object (disks' and VMs'), each read once */
    public List<ListedLock> listLeases() throws IOException {
        return read(directChildren(backend.list(PREFIX)).stream().filter(k -> k.startsWith(LEASES)).toList(), timings.leaseStaleAfter());
    }

    /**
     * Removes the stale locks and leases; with {@code all}, every lock and lease (only when no coldcopy
     * process uses the repository).
     */
    public List<ListedLock> removeStale(boolean all) throws IOException {
        List<ListedLock> removed = new ArrayList<>();
        List<ListedLock> every = new ArrayList<>(list());
        every.addAll(listLeases());
        for (ListedLock l : every) {
            if (all || l.stale()) {
                backend.delete(l.key());
                removed.add(l);
            }
        }
        return removed;
    }

    /** Removes the stale leases (what nodes killed in mid-backup left); live ones stay. */
    public List<ListedLock> removeStaleLeases() throws IOException {
        List<ListedLock> removed = new ArrayList<>();
        for (ListedLock l : listLeases()) {
            if (l.stale()) {
                backend.delete(l.key());
                removed.add(l);
                LOG.warn("removed stale {}", l.describe());
            }
        }
        return removed;
    }

    /** the keys of shared and exclusive locks: the objects in {@code locks/} but leases */
    private List<String> repositoryLockKeys() throws IOException {
        return directChildren(backend.list(PREFIX)).stream().filter(k -> !k.startsWith(LEASES)).toList();
    }

    /** the objects right in {@code locks/} (not whatever a person put in a folder there) */
    private static List<String> directChildren(List<String> keys) {
        return keys.stream().filter(k -> k.startsWith(PREFIX) && k.indexOf('/', PREFIX.length()) < 0).toList();
    }

    /** Writes a taker's own object: from the write on it is this process's (see {@link RepositoryLock}). */
    private void writeOwn(String key, LockRecord mine) throws IOException {
        RepositoryLock.taking(key);
        try {
            backend.put(key, mine.toJson());
        } catch (IOException | RuntimeException e) {
            RepositoryLock.notTaken(key);
            throw e;
        }
    }

    /** A taker that met a holder removes its object again, and tries later. */
    private void withdraw(String key) throws IOException {
        backend.delete(key);
        RepositoryLock.notTaken(key);
    }

    /** An object of this very process that it no longer holds: its release failed (see {@link RepositoryLock}). */
    private boolean leftByThisProcess(String key, LockRecord record) {
        return host.equals(record.host) && record.pid == ProcessIdentity.pid()
                && java.util.Objects.equals(record.processStarted, ProcessIdentity.started()) && !RepositoryLock.heldByThisProcess(key);
    }

    private List<ListedLock> read(List<String> keys, Duration staleAfter) throws IOException {
        Instant now = clock.instant();
        List<ListedLock> out = new ArrayList<>();
        for (String key : keys) {
            byte[] json;
            try {
                json = backend.get(key);
            } catch (ObjectNotFoundException e) {
                continue; // released while we listed
            }
            Optional<LockRecord> r = LockRecord.parse(json);
            out.add(new ListedLock(key, r, r.map(x -> x.isStale(now, staleAfter, host) || leftByThisProcess(key, x)).orElse(true)));
        }
        out.sort((a, b) -> a.key().compareTo(b.key()));
        return out;
    }

    private LockRecord record(LockMode mode, String purpose, Instant now) {
        LockRecord r = new LockRecord();
        r.mode = mode.label();
        r.purpose = purpose;
        r.host = host;
        r.pid = ProcessIdentity.pid();
        r.processStarted = ProcessIdentity.started();
        r.created = now.toString();
        r.refreshed = now.toString();
        return r;
    }

    private void removeStale(ListedLock l) throws IOException {
        backend.delete(l.key());
        LOG.warn("removed stale {}", l.describe());
    }

    /** what a lease is on, as a fixed-length key part (names may be long and hold any character) */
    private static String hash(String leased) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(leased.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d).substring(0, LEASE_HASH_HEX);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String random() {
        byte[] b = new byte[4];
        ThreadLocalRandom.current().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** "2 s", or "0.5 s" for a wait under ten seconds */
    private static String seconds(Duration d) {
        return d.toMillis() < 10_000 ? String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0) : d.toSeconds() + " s";
    }

    /** a poll interval and up to as much again (takers that collided do not collide again), never past the deadline */
    private void pause(Instant deadline) throws IOException {
        long poll = timings.poll().toMillis();
        long left = Math.max(0, Duration.between(clock.instant(), deadline).toMillis());
        try {
            Thread.sleep(Math.min(left, poll + ThreadLocalRandom.current().nextLong(poll + 1)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while waiting for a repository lock");
        }
    }
}
