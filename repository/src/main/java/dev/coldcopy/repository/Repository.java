package dev.coldcopy.repository;

import dev.coldcopy.repository.backend.Backends;
import dev.coldcopy.repository.backend.RepositoryBackend;
import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import dev.coldcopy.repository.lock.LockMode;
import dev.coldcopy.repository.lock.RepositoryLock;
import dev.coldcopy.repository.lock.RepositoryLocks;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
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
 * summaries/VM/DISK/20261125T203627123Z-3fa1c2   a summary of each manifest, for fast listing
 * locks/shared-...  locks/exclusive-...    lock objects of running backups and prunes
 * </pre>
 *
 * Thread-safe. Close it to release the backend (and the CamelContext it started, if none was given).
 */
public final class Repository implements AutoCloseable {
    public static final String SNAPSHOTS = "snapshots/";
    private static final Logger LOG = LoggerFactory.getLogger(Repository.class);

    private final RepositoryUri uri;
    private final RepositoryOptions options;
    private final RepositoryConfig config;
    private final RepositoryBackend backend;
    private final ChunkCodec codec;
    private final CamelContext ownContext; // null when the caller gave one
    /** chunks known to exist; valid only while this process holds a backup lock (a prune may run between) */
    private final Set<ChunkAddress> knownChunks = ConcurrentHashMap.newKeySet();
    private final RepositoryLocks locks;
    private int backupLocksHeld; // guarded by this
    private final Map<ChunkAddress, CompletableFuture<StoredChunk>> storing = new ConcurrentHashMap<>();

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
        this.locks = new RepositoryLocks(backend);
    }

    /**
     * Creates a repository: writes its config object. With a key file in the options the repository is
     * encrypted (AES-256-GCM, keyed chunk addresses). Fails if a repository already exists there.
     */
    public static Repository init(RepositoryUri uri, RepositoryOptions options) throws IOException {
        CamelContext own = options.camelContext().isPresent() ? null : startContext();
        RepositoryBackend backend = null;
        try {
            backend = Backends.create(uri, options, options.camelContext().orElse(own));
            if (backend.exists(RepositoryConfig.KEY)) {
                throw new RepositoryException("a repository already exists at " + uri);
            }
            byte[] master = options.keyFile().isPresent() ? RepositoryKeys.readKeyFile(options.keyFile().get()) : null;
            RepositoryConfig config = RepositoryConfig.create(options.chunkSize(),
                    options.zstdLevel().orElse(RepositoryOptions.DEFAULT_ZSTD_LEVEL), master);
            backend.put(RepositoryConfig.KEY, config.toJson());
            backend.flush();
            LOG.info("initialised repository {} at {} ({})", config.id, uri, config.encrypted() ? "encrypted" : "not encrypted");
            return create(uri, options, config, backend, own, master);
        } catch (IOException | RuntimeException e) {
            closeQuietly(backend, own);
            throw e;
        }
    }

    /** Opens an existing repository; a wrong or missing key fails here with a clear reason. */
    public static Repository open(RepositoryUri uri, RepositoryOptions options) throws IOException {
        CamelContext own = options.camelContext().isPresent() ? null : startContext();
        RepositoryBackend backend = null;
        try {
            backend = Backends.create(uri, options, options.camelContext().orElse(own));
            byte[] json;
            try {
                json = backend.get(RepositoryConfig.KEY);
            } catch (ObjectNotFoundException e) {
                throw new RepositoryNotFoundException("no repository at " + uri + " (no config object; initialise it first)");
            }
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
        } catch (IOException | RuntimeException e) {
            closeQuietly(backend, own);
            throw e;
        }
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

    public ChunkCodec codec() {
        return codec;
    }

    public int chunkSize() {
        return config.chunkSize;
    }

    public RepositoryOptions options() {
        return options;
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
        synchronized (this) {
            if (backupLocksHeld++ == 0) {
                knownChunks.clear(); // a prune may have run since this process last held a lock
            }
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
        synchronized (this) {
            backupLocksHeld--;
        }
    }

    /** the newest snapshot of a disk, any kind (a delta too) */
    public Optional<SnapshotManifest> latest(String vm, String disk) throws IOException {
        Optional<SnapshotId> id = snapshotIds(vm, disk).stream().max(Comparator.naturalOrder());
        return id.isEmpty() ? Optional.empty() : Optional.of(load(id.get()));
    }

    /** the newest FULL or INCREMENTAL snapshot of a disk: the one an incremental can build on */
    public Optional<SnapshotManifest> latestRestorable(String vm, String disk) throws IOException {
        List<SnapshotId> ids = snapshotIds(vm, disk);
        ids.sort(Comparator.reverseOrder());
        for (SnapshotId id : ids) {
            SnapshotManifest m = load(id);
            if (m.restorableAlone()) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
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

    private static String manifestName(String id) {
        return "manifest " + id;
    }

    private static String summaryName(String id) {
        return "summary " + id;
    }

    /** Hashes, and unless the repository has it already, compresses, encrypts and stores one chunk. */
    StoredChunk storeChunk(byte[] data, int length) throws RepositoryException {
        ChunkAddress address = codec.address(data, 0, length);
        if (knownChunks.contains(address)) {
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
            if (backend.exists(address.key())) {
                result = new StoredChunk(address, length, false, 0);
            } else {
                byte[] stored = codec.encodeChunk(address, data, 0, length);
                backend.put(address.key(), stored);
                result = new StoredChunk(address, length, true, stored.length);
            }
            knownChunks.add(address);
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

    static String encode(String name) {
        return URLEncoder.encode(name, StandardCharsets.UTF_8);
    }

    static String decode(String name) {
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
