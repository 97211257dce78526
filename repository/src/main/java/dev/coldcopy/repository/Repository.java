package dev.coldcopy.repository;

import dev.coldcopy.repository.backend.Backends;
import dev.coldcopy.repository.backend.ObjectHead;
import dev.coldcopy.repository.backend.RepositoryBackend;
import dev.coldcopy.repository.backend.RepositoryProbe;
import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import dev.coldcopy.repository.lock.LockMode;
import dev.coldcopy.repository.lock.RepositoryLock;
import dev.coldcopy.repository.lock.RepositoryLocks;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.camel.CamelContext;
import org.apache.camel.impl.DefaultCamelContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A backup repository: content-addressed chunks and snapshot manifests on a local directory, an S3
 * bucket or an SFTP directory, all with the same layout:
 *
 * <pre>
 * config                                   repository config (JSON, plain)
 * chunks/ab/abcdef...                      chunks, by address
 * snapshots/VM/DISK/20261125T203627123Z-3fa1c2   manifests (VM and DISK URL-encoded)
 * quarantine/chunks/ab/abcdef....TIME      chunks found damaged, moved out of the way (kept for inspection)
 * summaries/VM/DISK/20261125T203627123Z-3fa1c2   a summary of each manifest, for fast listing
 * vms/VM/20261125T203630456Z-7b20e9        VM backups: one record per stop event (the disk snapshots it took, the
 *                                          domain XML and host files, whose data are chunks like disk data)
 * locks/shared-...  locks/exclusive-...    lock objects of running backups and prunes
 * locks/lease-HASH-...                     leases: one disk (or VM record) to one node at a time, across a fleet
 * probes/...                               a writer's test object on first use (deleted at once)
 * </pre>
 *
 * <p>A chunk that fails its check is never trusted again: verify moves it into quarantine (so the
 * snapshots that use it are known broken), and a backup that produces the same content finds no object
 * under the address and stores it afresh, which repairs those snapshots (same address, same content).
 * Before reusing an existing chunk a backup checks what it can see cheaply: the object's stored length
 * against the length its header states, and the header against the data (see
 * {@link ChunkCodec#checkStoredHead}); a chunk that fails is quarantined and stored again.
 *
 * Thread-safe. Close it to release the backend (and the CamelContext it started, if none was given).
 */
public final class Repository implements AutoCloseable {
    public static final String SNAPSHOTS = "snapshots/";
    /** where VM backup records live: {@code vms/VM/ID} */
    public static final String VMS = "vms/";
    /** where damaged chunks are moved: the chunk's key below this prefix, plus the time it was moved */
    public static final String QUARANTINE = "quarantine/";
    private static final DateTimeFormatter QUARANTINE_TIME =
            DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmssSSS'Z'").withZone(ZoneOffset.UTC);
    private static final Logger LOG = LoggerFactory.getLogger(Repository.class);

    private final RepositoryUri uri;
    private final RepositoryOptions options;
    private final RepositoryConfig config;
    private final RepositoryBackend backend;
    private final ChunkCodec codec;
    private final CamelContext ownContext; // null when the caller gave one
    private final RepositoryLocks locks;
    private final Map<ChunkAddress, CompletableFuture<StoredChunk>> storing = new ConcurrentHashMap<>();
    private volatile boolean configConfirmed;

    /** the outcome of storing one chunk */
    public record StoredChunk(ChunkAddress address, int length, boolean isNew, int storedLength) {
    }

    private Repository(RepositoryUri uri, RepositoryOptions options, RepositoryConfig config, RepositoryBackend backend,
                       ChunkCodec codec, CamelContext ownContext) {
        this.uri = uri;
        this.options = options;
        this.config = config;
        this.backend = backend;
        this.codec = codec;
        this.ownContext = ownContext;
        this.locks = new RepositoryLocks(backend, options.lockTimings().orElseGet(dev.coldcopy.repository.lock.LockTimings::fromSystemProperties),
                java.time.Clock.systemUTC());
    }

    /**
     * Creates a repository: probes the store (a test object written, read back, listed, deleted), then
     * creates its config object atomically. With a key file in the options the repository is encrypted
     * (AES-256-GCM, keyed chunk addresses). Fails if a repository already exists there.
     */
    public static Repository init(RepositoryUri uri, RepositoryOptions options) throws IOException {
        return create(uri, options, false);
    }

    /**
     * Opens the repository for writing, creating it if it does not exist yet (a backup's first use). The
     * store is probed once per process first. When several processes create the same repository at once,
     * exactly one config is created and every process adopts it.
     */
    public static Repository openOrInit(RepositoryUri uri, RepositoryOptions options) throws IOException {
        CamelContext own = options.camelContext().isPresent() ? null : startContext();
        RepositoryBackend backend = null;
        try {
            if (!directoryExists(uri)) {
                closeQuietly(null, own);
                own = null;
                return create(uri, options, true);
            }
            backend = Backends.create(uri, options, options.camelContext().orElse(own));
            byte[] json;
            try {
                json = backend.get(RepositoryConfig.KEY);
            } catch (ObjectNotFoundException e) {
                closeQuietly(backend, own);
                backend = null;
                own = null;
                return create(uri, options, true);
            }
            RepositoryProbe.once(backend);
            return opened(uri, options, backend, own, settled(backend, json));
        } catch (IOException | RuntimeException e) {
            closeQuietly(backend, own);
            throw e;
        }
    }

    /**
     * A config created moments ago on a store where creation is not atomic may still be replaced by a
     * concurrent creator's: read it again after the backend's settle time until two reads agree.
     */
    private static byte[] settled(RepositoryBackend backend, byte[] json) throws IOException {
        java.time.Duration settle = backend.creationSettleTime();
        if (settle.isZero()) {
            return json;
        }
        byte[] current = json;
        for (int i = 0; i < 10; i++) {
            RepositoryConfig c = RepositoryConfig.parse(current, backend.describe());
            java.time.Instant created;
            try {
                created = java.time.Instant.parse(c.created);
            } catch (RuntimeException e) {
                return current;
            }
            if (created.isBefore(java.time.Instant.now().minus(settle.multipliedBy(4)).minusSeconds(10))) {
                return current;
            }
            sleep(settle);
            byte[] again = backend.get(RepositoryConfig.KEY);
            if (java.util.Arrays.equals(again, current)) {
                return current;
            }
            current = again;
        }
        return current;
    }

    private static void sleep(java.time.Duration d) throws RepositoryException {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RepositoryException("interrupted");
        }
    }

    private static Repository create(RepositoryUri uri, RepositoryOptions options, boolean adopt) throws IOException {
        CamelContext own = options.camelContext().isPresent() ? null : startContext();
        RepositoryBackend backend = null;
        try {
            backend = Backends.create(uri, options, options.camelContext().orElse(own));
            if (!adopt && backend.exists(RepositoryConfig.KEY)) {
                throw new RepositoryException("a repository already exists at " + uri);
            }
            RepositoryProbe.once(backend);
            byte[] master = options.keyFile().isPresent() ? RepositoryKeys.readKeyFile(options.keyFile().get()) : null;
            RepositoryConfig config = RepositoryConfig.create(options.chunkSize(),
                    options.zstdLevel().orElse(RepositoryOptions.DEFAULT_ZSTD_LEVEL), master);
            if (backend.createExclusive(RepositoryConfig.KEY, config.toJson())) {
                backend.flush();
                LOG.info("initialised repository {} at {} ({})", config.id, uri, config.encrypted() ? "encrypted" : "not encrypted");
                return create(uri, options, config, backend, own, master);
            }
            if (master != null) {
                java.util.Arrays.fill(master, (byte) 0);
            }
            if (!adopt) {
                throw new RepositoryException("a repository already exists at " + uri);
            }
            Repository adopted = opened(uri, options, backend, own, settled(backend, readWinner(backend, uri)));
            LOG.info("adopted repository {} at {}, created by another process at the same time", adopted.id(), uri);
            return adopted;
        } catch (IOException | RuntimeException e) {
            closeQuietly(backend, own);
            throw e;
        }
    }

    /** the config another process has just created (a lock-based backend may still be writing it) */
    private static byte[] readWinner(RepositoryBackend backend, RepositoryUri uri) throws IOException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                return backend.get(RepositoryConfig.KEY);
            } catch (ObjectNotFoundException e) {
                if (System.nanoTime() > deadline) {
                    throw new RepositoryException("another process began creating the repository at " + uri
                            + " but its config did not appear within 30 s (if that process died, remove "
                            + RepositoryConfig.KEY + ".lock there)");
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new RepositoryException("interrupted while waiting for the repository config at " + uri);
                }
            }
        }
    }

    /**
     * Opens an existing repository, read-only as far as the store goes (nothing is created, not even a
     * missing directory); a wrong or missing key fails here with a clear reason.
     */
    public static Repository open(RepositoryUri uri, RepositoryOptions options) throws IOException {
        if (!directoryExists(uri)) {
            throw notFound(uri);
        }
        CamelContext own = options.camelContext().isPresent() ? null : startContext();
        RepositoryBackend backend = null;
        try {
            backend = Backends.create(uri, options, options.camelContext().orElse(own));
            byte[] json;
            try {
                json = backend.get(RepositoryConfig.KEY);
            } catch (ObjectNotFoundException e) {
                throw notFound(uri);
            }
            return opened(uri, options, backend, own, json);
        } catch (IOException | RuntimeException e) {
            closeQuietly(backend, own);
            throw e;
        }
    }

    private static RepositoryNotFoundException notFound(RepositoryUri uri) {
        return new RepositoryNotFoundException("no repository at " + uri
                + " (no config object; create one with: coldcopy init --repo URI, or run a backup)");
    }

    /** a file repository's directory; the file backend creates its root, so look before making one */
    private static boolean directoryExists(RepositoryUri uri) {
        return uri.scheme() != RepositoryUri.Scheme.FILE || java.nio.file.Files.isDirectory(uri.directory());
    }

    private static Repository opened(RepositoryUri uri, RepositoryOptions options, RepositoryBackend backend,
                                     CamelContext own, byte[] json) throws IOException {
        RepositoryConfig config = RepositoryConfig.parse(json, uri.toString());
        byte[] master = null;
        if (config.encrypted()) {
            if (options.keyFile().isEmpty()) {
                throw new RepositoryKeyException("repository " + uri + " is encrypted: a key file is needed");
            }
            master = RepositoryKeys.readKeyFile(options.keyFile().get());
        } else if (options.keyFile().isPresent()) {
            throw new RepositoryKeyException("repository " + uri + " is not encrypted, but a key file was given");
        }
        return create(uri, options, config, backend, own, master);
    }

    private static Repository create(RepositoryUri uri, RepositoryOptions options, RepositoryConfig config,
                                     RepositoryBackend backend, CamelContext own, byte[] master) throws RepositoryKeyException {
        RepositoryKeys keys = null;
        if (config.encrypted()) {
            keys = RepositoryKeys.derive(master, config.salt());
            java.util.Arrays.fill(master, (byte) 0);
            if (!keys.matches(config.keyCheck())) {
                throw new RepositoryKeyException("wrong key for repository " + uri + ": the key file " + options.keyFile().get()
                        + " is not the key the repository was initialised with");
            }
        }
        ChunkCodec codec = new ChunkCodec(options.zstdLevel().orElse(config.zstdLevel), keys);
        return new Repository(uri, options, config, backend, codec, own);
    }

    private static CamelContext startContext() {
        DefaultCamelContext ctx = new DefaultCamelContext();
        ctx.getCamelContextExtension().setName("coldcopy-repository");
        ctx.start();
        return ctx;
    }

    /** a short stable id (8 hex digits), e.g. for checkpoint bitmap names */
    public String id() {
        return config.id;
    }

    public RepositoryUri uri() {
        return uri;
    }

    public RepositoryConfig config() {
        return config;
    }

    public RepositoryBackend backend() {
        return backend;
    }

    public int chunkSize() {
        return config.chunkSize;
    }

    public RepositoryOptions options() {
        return options;
    }

    /** the VM backups of this repository: a record per stop event, and the host files it saved */
    public dev.coldcopy.repository.vm.VmBackups vmBackups() {
        return new dev.coldcopy.repository.vm.VmBackups(this);
    }

    /** the lock objects of this repository (backups hold shared locks, prune an exclusive one) */
    public RepositoryLocks locks() {
        return locks;
    }

    /**
     * Starts writing a snapshot. Takes a shared repository lock first (waiting while a prune runs), held
     * until the snapshot is committed or aborted: no prune can collect a chunk this backup stores or reuses.
     */
    public SnapshotWriter newSnapshot(SnapshotHeader header, Optional<SnapshotManifest> parent) throws RepositoryException {
        RepositoryLock lock;
        try {
            lock = locks.acquire(LockMode.SHARED, "backup " + header.vm() + "/" + header.disk(), locks.timings().backupWait());
        } catch (RepositoryException e) {
            throw e;
        } catch (IOException e) {
            throw new RepositoryException("taking a lock on " + uri + " failed: " + e.getMessage(), e);
        }
        try {
            return new SnapshotWriter(this, header, parent, options.parallelism(), lock);
        } catch (RuntimeException e) {
            releaseBackupLock(lock);
            throw e;
        }
    }

    void releaseBackupLock(RepositoryLock lock) {
        lock.close();
    }

    /** the newest snapshot of a disk, any kind (a delta too) */
    public Optional<SnapshotManifest> latest(String vm, String disk) throws IOException {
        Optional<SnapshotId> id = snapshotIds(vm, disk).stream().max(Comparator.naturalOrder());
        // by its key: load(id) would list every snapshot of the repository to find it
        return id.isEmpty() ? Optional.empty() : Optional.of(loadKey(manifestKey(vm, disk, id.get())));
    }

    /**
     * The newest FULL or INCREMENTAL snapshot of a disk: the one an incremental can build on. Empty also
     * when that snapshot uses a chunk that verify quarantined and no backup has stored again: an
     * incremental would carry the missing chunk forward, so the next backup must be full (and so repair it).
     */
    public Optional<SnapshotManifest> latestRestorable(String vm, String disk) throws IOException {
        return latestSnapshots(vm, disk).base();
    }

    /**
     * What a disk's next backup needs to know from the repository.
     *
     * @param newest the disk's newest snapshot, any kind: a redelivered event finds there what it already made
     * @param base   the newest one an incremental can build on ({@link #latestRestorable})
     */
    public record LatestSnapshots(Optional<SnapshotManifest> newest, Optional<SnapshotManifest> base) {
        /** the newest snapshot if this event made it (never for a null event id) */
        public Optional<SnapshotManifest> madeBy(String eventId) {
            return newest.filter(m -> m.header().answers(eventId));
        }
    }

    /**
     * The disk's newest snapshot and the newest one an incremental can build on, with one listing of the disk's
     * snapshots and, as a rule, one manifest read (the newest is the base unless it is a delta).
     */
    public LatestSnapshots latestSnapshots(String vm, String disk) throws IOException {
        List<SnapshotId> ids = snapshotIds(vm, disk);
        ids.sort(Comparator.reverseOrder());
        Optional<SnapshotManifest> newest = Optional.empty();
        for (SnapshotId id : ids) {
            SnapshotManifest m = loadKey(manifestKey(vm, disk, id));
            if (newest.isEmpty()) {
                newest = Optional.of(m);
            }
            if (m.restorableAlone()) {
                Set<ChunkAddress> lost = lostChunks();
                long broken = m.extents().chunks().stream().filter(r -> lost.contains(r.address())).count();
                if (broken > 0) {
                    LOG.warn("snapshot {} of {}/{} uses {} quarantined chunk(s) not stored again yet: it cannot be the base "
                            + "of an incremental, the next backup of this disk is full", id, vm, disk, broken);
                    return new LatestSnapshots(newest, Optional.empty());
                }
                return new LatestSnapshots(newest, Optional.of(m));
            }
        }
        return new LatestSnapshots(newest, Optional.empty());
    }

    /** quarantined chunks whose address has no chunk again (no backup has stored the content since) */
    public Set<ChunkAddress> lostChunks() throws IOException {
        Set<ChunkAddress> lost = new HashSet<>();
        for (String key : backend.list(QUARANTINE + ChunkAddress.PREFIX)) {
            String name = key.substring(key.lastIndexOf('/') + 1);
            int dot = name.indexOf('.');
            ChunkAddress a;
            try {
                a = ChunkAddress.parse(dot < 0 ? name : name.substring(0, dot));
            } catch (IllegalArgumentException e) {
                continue; // not a quarantined chunk: something a person put there
            }
            if (!lost.contains(a) && !backend.exists(a.key())) {
                lost.add(a);
            }
        }
        return lost;
    }

    /**
     * Moves a damaged chunk out of the way, to {@code quarantine/chunks/ab/HEX.TIME}, where it is kept
     * for inspection; the next backup that produces its content stores it afresh.
     *
     * @return the key it was moved to, or empty if there was no chunk under the address
     */
    public Optional<String> quarantine(ChunkAddress address, String reason) throws IOException {
        String target = QUARANTINE + address.key() + "." + QUARANTINE_TIME.format(Instant.now());
        try {
            backend.move(address.key(), target);
        } catch (ObjectNotFoundException e) {
            return Optional.empty();
        }
        LOG.warn("chunk {} is damaged ({}): moved to {} in {}", address.hex(), reason, target, backend.describe());
        return Optional.of(target);
    }

    /** A disk that has snapshots here: the VM's name and the disk's target. */
    public record DiskName(String vm, String disk) {
    }

    /** every (vm, disk) with at least one snapshot, from the manifest keys (no manifest is read) */
    public Set<DiskName> disks() throws IOException {
        Set<DiskName> disks = new LinkedHashSet<>();
        for (String key : manifestKeys(SNAPSHOTS)) {
            String[] parts = key.split("/");
            disks.add(new DiskName(decode(parts[1]), decode(parts[2])));
        }
        return disks;
    }


    /**
     * Summaries of every snapshot (of one VM), oldest first: from the summary objects, read in parallel;
     * a manifest without one (written before summaries existed, or a crash between the two) is read whole.
     */
    public List<SnapshotSummary> list(Optional<String> vm) throws IOException {
        String sub = vm.map(v -> encode(v) + "/").orElse("");
        List<String> manifests = manifestKeys(SNAPSHOTS + sub);
        Set<String> summaries = new java.util.HashSet<>(backend.list(SummaryCodec.PREFIX + sub));
        List<SnapshotSummary> out = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(2, options.parallelism() * 2), r -> {
            Thread t = new Thread(r, "coldcopy-list");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> reads = new ArrayList<>();
            for (String key : manifests) {
                String summaryKey = SummaryCodec.keyFor(key);
                reads.add(pool.submit(() -> {
                    out.add(summaries.contains(summaryKey) ? loadSummary(summaryKey, key) : loadKey(key).summary());
                    return null;
                }));
            }
            for (Future<?> f : reads) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof IOException io ? io : new RepositoryException(String.valueOf(e.getCause()), e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted while listing snapshots");
                }
            }
        } finally {
            pool.shutdownNow();
        }
        List<SnapshotSummary> sorted = new ArrayList<>(out);
        sorted.sort(Comparator.comparing(SnapshotSummary::created).thenComparing(SnapshotSummary::id));
        return sorted;
    }

    private SnapshotSummary loadSummary(String summaryKey, String manifestKey) throws IOException {
        String id = summaryKey.substring(summaryKey.lastIndexOf('/') + 1);
        byte[] stored;
        try {
            stored = backend.get(summaryKey);
        } catch (ObjectNotFoundException e) {
            return loadKey(manifestKey).summary(); // removed meanwhile: the manifest decides
        }
        SnapshotSummary s = SummaryCodec.decode("summary " + summaryKey, codec.decodeObject(summaryName(id), stored));
        if (!s.id().value().equals(id)) {
            throw new ChunkCorruptException("summary " + summaryKey, "holds snapshot " + s.id() + ", not " + id);
        }
        return s;
    }

    public SnapshotManifest load(SnapshotId id) throws IOException {
        return loadKey(manifestKey(id));
    }

    /**
     * Removes a snapshot: its manifest first (from then on it does not exist), then its summary. Its chunks
     * stay: other snapshots may use them; a prune collects those no snapshot uses.
     */
    public void deleteSnapshot(SnapshotId id) throws IOException {
        deleteManifestKey(manifestKey(id));
    }

    /** as {@link #deleteSnapshot}, by manifest key ({@code snapshots/VM/DISK/ID}) */
    public void deleteManifestKey(String key) throws IOException {
        backend.delete(key);
        backend.delete(SummaryCodec.keyFor(key));
    }

    /** the manifest keys of every snapshot ({@code snapshots/VM/DISK/ID}) */
    public List<String> manifestKeys() throws IOException {
        return manifestKeys(SNAPSHOTS);
    }

    /** Reads a manifest by its key. */
    public SnapshotManifest loadManifestKey(String key) throws IOException {
        return loadKey(key);
    }

    /** summary objects whose manifest is gone (a prune that died between the two deletes); removes them */
    public int removeOrphanSummaries() throws IOException {
        Set<String> manifests = new java.util.HashSet<>(manifestKeys(SNAPSHOTS));
        int removed = 0;
        for (String key : backend.list(SummaryCodec.PREFIX)) {
            if (!manifests.contains(SNAPSHOTS + key.substring(SummaryCodec.PREFIX.length()))) {
                backend.delete(key);
                removed++;
            }
        }
        return removed;
    }

    /** Reads a chunk and verifies it: checksum, decryption, decompression, content hash == address. */
    public byte[] readChunk(ChunkAddress address) throws IOException {
        byte[] stored;
        try {
            stored = backend.get(address.key());
        } catch (ObjectNotFoundException e) {
            throw new ChunkCorruptException("chunk " + address.hex(), "missing from " + backend.describe());
        }
        return codec.decodeChunk(address, stored);
    }

    /** the key a snapshot's manifest is stored under */
    public static String manifestKey(SnapshotHeader header, SnapshotId id) {
        return manifestKey(header.vm(), header.disk(), id);
    }

    public static String manifestKey(String vm, String disk, SnapshotId id) {
        return SNAPSHOTS + encode(vm) + "/" + encode(disk) + "/" + id.value();
    }

    private String manifestKey(SnapshotId id) throws IOException {
        for (String key : manifestKeys(SNAPSHOTS)) {
            if (key.endsWith("/" + id.value())) {
                return key;
            }
        }
        throw new RepositoryException("no snapshot " + id + " in " + uri);
    }

    /** the ids of every snapshot, from the manifest keys (no manifest is read), oldest first */
    public List<SnapshotId> snapshotIds() throws IOException {
        List<SnapshotId> ids = new ArrayList<>();
        for (String key : manifestKeys(SNAPSHOTS)) {
            ids.add(SnapshotId.parse(key.substring(key.lastIndexOf('/') + 1)));
        }
        ids.sort(Comparator.naturalOrder());
        return ids;
    }

    private List<SnapshotId> snapshotIds(String vm, String disk) throws IOException {
        List<SnapshotId> ids = new ArrayList<>();
        for (String key : manifestKeys(SNAPSHOTS + encode(vm) + "/" + encode(disk) + "/")) {
            ids.add(SnapshotId.parse(key.substring(key.lastIndexOf('/') + 1)));
        }
        return ids;
    }

    private List<String> manifestKeys(String prefix) throws IOException {
        List<String> keys = new ArrayList<>();
        for (String key : backend.list(prefix)) {
            String[] parts = key.split("/");
            if (parts.length == 4 && SnapshotId.isValid(parts[3])) {
                keys.add(key);
            }
        }
        return keys;
    }

    private SnapshotManifest loadKey(String key) throws IOException {
        String id = key.substring(key.lastIndexOf('/') + 1);
        byte[] stored = backend.get(key);
        byte[] plain = codec.decodeObject(manifestName(id), stored);
        SnapshotManifest m = ManifestCodec.decode("manifest " + key, plain);
        if (!m.id().value().equals(id)) {
            throw new ChunkCorruptException("manifest " + key, "holds snapshot " + m.id() + ", not " + id);
        }
        return m;
    }

    void writeManifest(SnapshotManifest manifest) throws RepositoryException {
        confirmConfig();
        byte[] plain = ManifestCodec.encode(manifest);
        byte[] stored = codec.encodeObject(manifestName(manifest.id().value()), plain);
        String key = manifestKey(manifest.header(), manifest.id());
        try {
            backend.flush(); // every chunk it names is on disk before the manifest is
            backend.put(key, stored);
            backend.flush(); // and the manifest before the checkpoint advances
        } catch (IOException e) {
            throw e instanceof RepositoryException re ? re : new RepositoryException(e.getMessage(), e);
        }
        LOG.info("committed {}", manifest);
        try {
            backend.put(SummaryCodec.keyFor(key), codec.encodeObject(summaryName(manifest.id().value()), SummaryCodec.encode(manifest.summary())));
        } catch (IOException | RuntimeException e) {
            // the snapshot is committed; listing reads its manifest instead
            LOG.warn("writing the summary of {} failed: {}", manifest.id(), e.getMessage());
        }
    }

    /**
     * Writes a small named record (a VM backup's) the way a manifest is written: encoded by the chunk
     * codec bound to {@code name} (encrypted and authenticated when the repository is), after every
     * chunk put so far is durable, and durable itself before this returns. It is the commit point of
     * whatever it names.
     */
    public void putRecord(String key, String name, byte[] plain) throws RepositoryException {
        confirmConfig();
        byte[] stored = codec.encodeObject(name, plain);
        try {
            backend.flush();
            backend.put(key, stored);
            backend.flush();
        } catch (IOException e) {
            throw e instanceof RepositoryException re ? re : new RepositoryException(e.getMessage(), e);
        }
    }

    /**
     * Reads a record written by {@link #putRecord}: checksum, decryption and authentication under the
     * same name, so a damaged, truncated or swapped record fails with {@link ChunkCorruptException}.
     *
     * @throws ObjectNotFoundException if there is no object under the key
     */
    public byte[] getRecord(String key, String name) throws IOException {
        return codec.decodeObject(name, backend.get(key));
    }

    /**
     * Before this process's first commit: the repository's config must still be the one this process
     * opened with. Two processes that created a repository at once on a store without conditional writes
     * could each have taken their own config for the repository's; the one whose config lost fails here,
     * before any manifest names its chunks.
     */
    private void confirmConfig() throws RepositoryException {
        if (configConfirmed) {
            return;
        }
        synchronized (this) {
            if (configConfirmed) {
                return;
            }
            byte[] now;
            try {
                now = backend.get(RepositoryConfig.KEY);
            } catch (IOException e) {
                throw new RepositoryException("re-reading the config of " + uri + " before the first commit failed: " + e.getMessage(), e);
            }
            RepositoryConfig current = RepositoryConfig.parse(now, uri.toString());
            if (!java.util.Arrays.equals(now, config.toJson()) && !sameConfig(current, config)) {
                throw new RepositoryException("the config of " + uri + " is now repository " + current.id + ", not " + config.id
                        + " which this process opened (created by another process at the same time?); nothing was committed: run the backup again");
            }
            configConfirmed = true;
        }
    }

    private static boolean sameConfig(RepositoryConfig a, RepositoryConfig b) {
        return java.util.Objects.equals(a.id, b.id) && java.util.Objects.equals(a.created, b.created)
                && (a.encryption == null) == (b.encryption == null)
                && (a.encryption == null || java.util.Objects.equals(a.encryption.salt, b.encryption.salt));
    }

    private static String manifestName(String id) {
        return "manifest " + id;
    }

    private static String summaryName(String id) {
        return "summary " + id;
    }

    /**
     * Hashes, and unless the repository has it already, compresses, encrypts and stores one chunk. An
     * existing object under the address is reused only if its header and stored length fit the data;
     * otherwise it is quarantined and the chunk stored afresh.
     *
     * @param known addresses this backup has stored or checked already (one set per snapshot: a
     *              long-lived repository must not remember a chunk that verify has since quarantined)
     */
    public StoredChunk storeChunk(byte[] data, int length, Set<ChunkAddress> known) throws RepositoryException {
        ChunkAddress address = codec.address(data, 0, length);
        if (known.contains(address)) {
            return new StoredChunk(address, length, false, 0);
        }
        CompletableFuture<StoredChunk> mine = new CompletableFuture<>();
        CompletableFuture<StoredChunk> other = storing.putIfAbsent(address, mine);
        if (other != null) {
            // the same content is being stored by another thread right now: share its outcome
            try {
                StoredChunk c = other.get();
                return new StoredChunk(c.address(), c.length(), false, 0);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof RepositoryException re ? re : new RepositoryException(String.valueOf(e.getCause()), e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RepositoryException("interrupted while storing chunk " + address);
            }
        }
        try {
            StoredChunk result;
            if (reusable(address, length)) {
                result = new StoredChunk(address, length, false, 0);
            } else {
                byte[] stored = codec.encodeChunk(address, data, 0, length);
                backend.put(address.key(), stored);
                result = new StoredChunk(address, length, true, stored.length);
            }
            known.add(address);
            mine.complete(result);
            return result;
        } catch (IOException | RuntimeException e) {
            RepositoryException re = e instanceof RepositoryException r ? r
                    : new RepositoryException("storing chunk " + address + " in " + backend.describe() + " failed: " + e.getMessage(), e);
            mine.completeExceptionally(re);
            throw re;
        } finally {
            storing.remove(address, mine);
        }
    }

    /** whether an object is stored under the address and looks like this chunk; a damaged one is quarantined */
    private boolean reusable(ChunkAddress address, int length) throws IOException {
        Optional<ObjectHead> head = backend.head(address.key(), ChunkCodec.HEADER_LENGTH);
        if (head.isEmpty()) {
            return false;
        }
        Optional<String> problem = codec.checkStoredHead(head.get().start(), head.get().length(), length);
        if (problem.isEmpty()) {
            return true;
        }
        quarantine(address, problem.get() + "; storing it again");
        return false;
    }

    /** a VM or disk name as it appears in keys (URL-encoded: a name never adds a level) */
    public static String encode(String name) {
        return URLEncoder.encode(name, StandardCharsets.UTF_8);
    }

    /** the name an {@link #encode}d key part stands for */
    public static String decode(String name) {
        return URLDecoder.decode(name, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        closeQuietly(backend, ownContext);
    }

    private static void closeQuietly(RepositoryBackend backend, CamelContext own) {
        if (backend != null) {
            try {
                backend.close();
            } catch (RuntimeException e) {
                LOG.debug("closing backend: {}", e.toString());
            }
        }
        if (own != null) {
            own.stop();
        }
    }

    @Override
    public String toString() {
        return "repository " + config.id + " at " + uri;
    }
}
