package dev.coldcopy.repository;

import dev.coldcopy.repository.lock.RepositoryLock;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Writes one snapshot. Data ranges are gathered into chunks of up to the repository's chunk size, then
 * hashed, compressed, encrypted and stored on a small pool of threads, with a bounded number of chunks in
 * flight (a producer faster than storage waits in putData). Chunks that already exist are not stored
 * again. The manifest is written by {@link #commit} only: before it, no snapshot exists.
 *
 * <p>How ranges become chunks. The disk is cut into windows of the chunk size; a range is put as pieces,
 * each ending at the latest at its window's end. A piece goes into the pending chunk when it fits in the
 * space left (a piece continuing the previous one extends its extent); otherwise the pending chunk is
 * stored and the piece starts the next one. So scattered small changes share chunks: 100k dirty 64 KiB
 * extents of a 1 TiB disk take about 1,700 chunks of 4 MiB, not 100k. Long data runs still take
 * window-aligned chunks of a whole window each: a whole window's piece never fits beside other data, and
 * a run that already covers a whole window starts a new chunk at every window boundary even when it
 * comes in smaller puts. Which chunks hold the inside of a run thus does not depend on the small
 * changes around it, and fulls of a disk share them (identical fulls store nothing new): from the run's
 * second window on when it is put in window-sized pieces (as the NBD reader does), from its third when
 * put in smaller ones. Each extent in the manifest records where in its chunk its bytes are. The same
 * puts in the same order give the same chunks.
 *
 * <p>All methods are thread-safe (synchronized); ranges put must not overlap. Best results come from
 * putting ranges in ascending order.
 */
public final class SnapshotWriter implements AutoCloseable {
    private BackupStatistics committedStatistics;
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final Repository repository;
    /** the shared repository lock, held from creation to commit or abort */
    private final RepositoryLock lock;
    private final java.util.concurrent.atomic.AtomicBoolean lockReleased = new java.util.concurrent.atomic.AtomicBoolean();
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
    /** chunks this snapshot has stored or found intact already */
    private final Set<ChunkAddress> knownChunks = ConcurrentHashMap.newKeySet();

    /** the chunk being filled and its pieces, in put order */
    private byte[] pending;
    private int pendingLength;
    private final List<Piece> pendingPieces = new ArrayList<>();
    /** see {@link #chunkPerWindow()} */
    private boolean chunkPerWindow;
    /** where the last data put ended, and where the run of contiguous data puts it ends began */
    private long lastEnd = -1;
    private long runStart = -1;
    private boolean finished;

    /** a disk range held in the pending chunk from {@code chunkOffset} on */
    private record Piece(long offset, int length, int chunkOffset) {
    }

    /** a disk range and the chunk (being stored) that holds it from {@code chunkOffset} on */
    private record PendingExtent(long offset, int length, int chunkOffset, CompletableFuture<Repository.StoredChunk> chunk) {
    }

    SnapshotWriter(Repository repository, SnapshotHeader header, Optional<SnapshotManifest> parent, int parallelism,
                   RepositoryLock lock) {
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
        this.lock = lock;
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
            long windowEnd = Math.min((o / chunkSize + 1) * chunkSize, header.virtualSize());
            int n = (int) Math.min(data.remaining(), windowEnd - o);
            boolean continues = o == lastEnd;
            if (!continues) {
                runStart = o;
            }
            if (pendingLength > 0) {
                // a run that already covers a whole window starts a new chunk at each window boundary,
                // so from there on its chunks are whole windows however it is put (fulls deduplicate)
                boolean alignRun = continues && o % chunkSize == 0 && runStart <= o - chunkSize;
                boolean otherWindow = chunkPerWindow && o / chunkSize != pendingPieces.get(0).offset() / chunkSize;
                if (alignRun || otherWindow || n > chunkSize - pendingLength) {
                    flush();
                }
            }
            if (pendingLength == 0) {
                pending = takeBuffer();
            }
            data.get(pending, pendingLength, n);
            if (continues && !pendingPieces.isEmpty()) {
                Piece last = pendingPieces.get(pendingPieces.size() - 1);
                pendingPieces.set(pendingPieces.size() - 1, new Piece(last.offset(), last.length() + n, last.chunkOffset()));
            } else {
                pendingPieces.add(new Piece(o, n, pendingLength));
            }
            pendingLength += n;
            lastEnd = o + n;
            if (pendingLength == chunkSize) {
                flush();
            }
        }
    }

    /**
     * From now on a chunk never holds data of two windows: each window's data is one chunk of its own, whatever
     * else changed on the disk. For disks that are backed up whole every time (raw images, which keep no dirty
     * bitmap): an unchanged window gives the same chunk as in the previous backup, so it is not stored again,
     * where packing would mix it with whatever small change lies next to it. Costs more, smaller chunks on a disk
     * of scattered small extents. Call before the first put.
     */
    public synchronized SnapshotWriter chunkPerWindow() {
        if (bytesData.get() > 0) {
            throw new IllegalStateException("chunkPerWindow must be chosen before the first put");
        }
        chunkPerWindow = true;
        return this;
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
                put.addData(e.offset(), e.length(), c.address(), c.length(), e.chunkOffset());
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
            lock.confirm(); // no prune has taken our lock for stale: every chunk named is still there
            repository.writeManifest(manifest);
            finished = true;
            return id;
        } catch (IllegalArgumentException e) {
            throw new RepositoryException("snapshot " + id + " of " + header.vm() + "/" + header.disk() + " cannot be committed: " + e.getMessage(), e);
        } catch (RepositoryException e) {
            throw e;
        } catch (java.io.IOException e) {
            throw new RepositoryException(e.getMessage(), e);
        } finally {
            finished = true;
            pool.shutdownNow();
            releaseLock();
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
            pendingPieces.clear();
        }
        pool.shutdownNow();
        releaseLock();
    }

    private void releaseLock() {
        if (lockReleased.compareAndSet(false, true)) {
            repository.releaseBackupLock(lock);
        }
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
        List<Piece> pieces = List.copyOf(pendingPieces);
        pending = null;
        pendingLength = 0;
        pendingPieces.clear();
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
                    return repository.storeChunk(data, length, knownChunks);
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
        for (Piece p : pieces) {
            dataExtents.add(new PendingExtent(p.offset(), p.length(), p.chunkOffset(), f));
        }
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
