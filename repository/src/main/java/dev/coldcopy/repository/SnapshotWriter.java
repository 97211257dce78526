package dev.coldcopy.repository;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Writes one snapshot. Data ranges are gathered into chunks aligned to the repository's chunk size
 * (consecutive puts inside one chunk-sized window become one chunk; a lone 64 KiB change becomes a
 * 64 KiB chunk), then hashed, compressed, encrypted and stored on a small pool of threads, with a bounded
 * number of chunks in flight (a producer faster than storage waits in putData). Chunks that already
 * exist are not stored again. The manifest is written by {@link #commit} only: before it, no snapshot exists.
 *
 * <p>All methods are thread-safe (synchronized); ranges put must not overlap. Best speed comes from
 * putting ranges in ascending order, so neighbouring pieces fill one chunk.
 */
public final class SnapshotWriter implements AutoCloseable {
    private BackupStatistics committedStatistics;
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final Repository repository;
    private final SnapshotHeader header;
    private final Optional<SnapshotManifest> parent;
    private final SnapshotId id;
    private final Instant started = Instant.now();
    private final long startNanos = System.nanoTime();
    private final int chunkSize;
    private final ExecutorService pool;
    private final Semaphore inFlight;
    private final java.util.concurrent.BlockingQueue<byte[]> freeBuffers;
    private final List<CompletableFuture<Repository.StoredChunk>> chunkFutures = new ArrayList<>();
    private final List<PendingExtent> dataExtents = new ArrayList<>();
    private final ExtentMap.Builder zeroExtents = new ExtentMap.Builder();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final AtomicLong bytesData = new AtomicLong();
    private final AtomicLong bytesZero = new AtomicLong();

    private byte[] pending;
    private long pendingStart;
    private int pendingLength;
    private boolean finished;

    private record PendingExtent(long offset, int length, CompletableFuture<Repository.StoredChunk> chunk) {
    }

    SnapshotWriter(Repository repository, SnapshotHeader header, Optional<SnapshotManifest> parent, int parallelism) {
        if (header.kind() == SnapshotKind.INCREMENTAL) {
            SnapshotManifest p = parent.orElseThrow(() -> new IllegalArgumentException("an incremental snapshot needs its parent manifest"));
            if (!p.restorableAlone()) {
                throw new IllegalArgumentException("parent " + p.id() + " is a delta; an incremental needs a full or incremental parent");
            }
            if (p.virtualSize() != header.virtualSize()) {
                throw new IllegalArgumentException("disk size changed from " + p.virtualSize() + " to " + header.virtualSize()
                        + " since parent " + p.id() + ": an incremental is not possible");
            }
            if (!p.vm().equals(header.vm()) || !p.disk().equals(header.disk())) {
                throw new IllegalArgumentException("parent " + p.id() + " belongs to " + p.vm() + "/" + p.disk());
            }
        }
        this.repository = repository;
        this.header = header;
        this.parent = header.kind() == SnapshotKind.INCREMENTAL ? parent : Optional.empty();
        this.id = SnapshotId.create(started);
        this.chunkSize = repository.chunkSize();
        this.pool = Executors.newFixedThreadPool(parallelism, r -> {
            Thread t = new Thread(r, "coldcopy-chunk-" + THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.inFlight = new Semaphore(parallelism * 2 + 1);
        this.freeBuffers = new java.util.concurrent.ArrayBlockingQueue<>(parallelism * 2 + 2);
    }

    public SnapshotId id() {
        return id;
    }

    public SnapshotHeader header() {
        return header;
    }

    /** Puts a DATA range; the bytes are copied, the array may be reused after the call. */
    public synchronized void putData(long offset, byte[] data, int length) throws RepositoryException {
        putData(offset, ByteBuffer.wrap(data, 0, length));
    }

    /** Puts a DATA range of {@code data.remaining()} bytes (consumed); the buffer may be reused after the call. */
    public synchronized void putData(long offset, ByteBuffer data) throws RepositoryException {
        checkOpen();
        int length = data.remaining();
        checkRange(offset, length);
        bytesData.addAndGet(length);
        while (data.hasRemaining()) {
            long o = offset + (length - data.remaining());
            long window = o / chunkSize;
            if (pendingLength > 0 && (o != pendingStart + pendingLength || pendingStart / chunkSize != window)) {
                flush();
            }
            if (pendingLength == 0) {
                pending = takeBuffer();
                pendingStart = o;
            }
            long windowEnd = Math.min((window + 1) * chunkSize, header.virtualSize());
            int n = (int) Math.min(data.remaining(), windowEnd - o);
            data.get(pending, pendingLength, n);
            pendingLength += n;
            if (pendingStart + pendingLength == windowEnd) {
                flush();
            }
        }
    }

    /** Puts a ZERO range: it takes no chunk. */
    public synchronized void putZero(long offset, long length) throws RepositoryException {
        checkOpen();
        checkRange(offset, length);
        bytesZero.addAndGet(length);
        zeroExtents.addZero(offset, length);
    }

    /** Waits until every chunk put so far is stored (or fails with the first storage error). */
    public void awaitStored() throws RepositoryException {
        List<CompletableFuture<Repository.StoredChunk>> snapshot;
        synchronized (this) {
            flush();
            snapshot = new ArrayList<>(chunkFutures);
        }
        for (CompletableFuture<Repository.StoredChunk> f : snapshot) {
            join(f);
        }
    }

    /**
     * Stores the remaining chunks, then writes the manifest (the commit point).
     *
     * @param readerStatistics what the reader knows: bytesRead, durationMillis (the rest is filled in here)
     */
    public synchronized SnapshotId commit(BackupStatistics readerStatistics) throws RepositoryException {
        checkOpen();
        try {
            flush();
            long chunksNew = 0;
            long chunksReused = 0;
            long bytesStored = 0;
            long bytesNew = 0;
            for (CompletableFuture<Repository.StoredChunk> f : chunkFutures) {
                Repository.StoredChunk c = join(f);
                if (c.isNew()) {
                    chunksNew++;
                    bytesStored += c.storedLength();
                    bytesNew += c.length();
                } else {
                    chunksReused++;
                }
            }
            ExtentMap.Builder put = zeroExtents;
            for (PendingExtent e : dataExtents) {
                Repository.StoredChunk c = e.chunk().getNow(null);
                put.addData(e.offset(), e.length(), c.address(), c.length(), 0);
            }
            ExtentMap map = put.build();
            if (parent.isPresent()) {
                map = parent.get().extents().overlay(map);
            }
            long millis = readerStatistics.durationMillis() > 0 ? readerStatistics.durationMillis() : (System.nanoTime() - startNanos) / 1_000_000;
            BackupStatistics stats = committedStatistics = new BackupStatistics(readerStatistics.bytesRead(), bytesData.get(), bytesZero.get(),
                    bytesStored, bytesNew, chunksNew, chunksReused, millis);
            SnapshotManifest manifest = new SnapshotManifest(id, header, parent.map(SnapshotManifest::id), started,
                    chunkSize, stats, map);
            repository.writeManifest(manifest);
            finished = true;
            return id;
        } catch (IllegalArgumentException e) {
            throw new RepositoryException("snapshot " + id + " of " + header.vm() + "/" + header.disk() + " cannot be committed: " + e.getMessage(), e);
        } finally {
            finished = true;
            pool.shutdownNow();
        }
    }

    /** The statistics written into the manifest; available once {@link #commit} returned. */
    public synchronized BackupStatistics statistics() {
        if (committedStatistics == null) {
            throw new IllegalStateException("snapshot " + id + " is not committed");
        }
        return committedStatistics;
    }

    public SnapshotId commit() throws RepositoryException {
        return commit(BackupStatistics.none());
    }

    /** Abandons the snapshot: no manifest is written. Chunks already stored stay (a retry reuses them). */
    public void abort() {
        synchronized (this) {
            if (finished) {
                return;
            }
            finished = true;
            pending = null;
            pendingLength = 0;
        }
        pool.shutdownNow();
    }

    @Override
    public void close() {
        abort();
    }

    private void flush() throws RepositoryException {
        if (pendingLength == 0) {
            return;
        }
        byte[] data = pending;
        int length = pendingLength;
        long start = pendingStart;
        pending = null;
        pendingLength = 0;
        try {
            inFlight.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RepositoryException("interrupted while storing snapshot " + id);
        }
        CompletableFuture<Repository.StoredChunk> f;
        try {
            f = CompletableFuture.supplyAsync(() -> {
                try {
                    return repository.storeChunk(data, length);
                } catch (RepositoryException e) {
                    failure.compareAndSet(null, e);
                    throw new CompletionException(e);
                } finally {
                    freeBuffers.offer(data);
                }
            }, pool);
        } catch (RuntimeException e) {
            inFlight.release();
            throw new RepositoryException("snapshot " + id + " is closed", e);
        }
        f.whenComplete((r, t) -> inFlight.release());
        chunkFutures.add(f);
        dataExtents.add(new PendingExtent(start, length, f));
    }

    /** chunk buffers are reused: a backup of 1 TiB must not allocate 1 TiB of garbage */
    private byte[] takeBuffer() {
        byte[] b = freeBuffers.poll();
        return b != null ? b : new byte[chunkSize];
    }

    private void checkOpen() throws RepositoryException {
        if (finished) {
            throw new IllegalStateException("snapshot " + id + " is already committed or aborted");
        }
        Throwable t = failure.get();
        if (t != null) {
            throw t instanceof RepositoryException re ? new RepositoryException(re.getMessage(), re)
                    : new RepositoryException("storing a chunk failed: " + t, t);
        }
    }

    private void checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > header.virtualSize()) {
            throw new IllegalArgumentException("range at " + offset + " (" + length + " bytes) is outside the disk of "
                    + header.virtualSize() + " bytes");
        }
    }

    private static Repository.StoredChunk join(CompletableFuture<Repository.StoredChunk> f) throws RepositoryException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause() instanceof CompletionException && e.getCause().getCause() != null ? e.getCause().getCause() : e.getCause();
            if (c instanceof RepositoryException re) {
                throw new RepositoryException(re.getMessage(), re);
            }
            throw new RepositoryException("storing a chunk failed: " + c, c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RepositoryException("interrupted while waiting for chunks to be stored");
        }
    }
}
