package dev.coldcopy.restore;

import dev.coldcopy.repository.ExtentMap;
import dev.coldcopy.repository.Repository;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Writes a snapshot's data extents into a sink, chunk by chunk on a bounded pool: each chunk is fetched and
 * verified on a pool thread before any of its bytes are written, and its writes then complete
 * asynchronously. The first failure stops new chunks from starting and is the one reported.
 */
final class ChunkPipeline {
    private static final AtomicInteger THREADS = new AtomicInteger();
    /** Chunks in flight per thread: verified ones waiting for their writes count too (memory: slots x chunk size). */
    private static final int SLOTS_PER_THREAD = 4;

    private final Repository repository;
    private final ExtentMap map;
    private final ChunkExtents index;
    private final DiskSink sink;
    private final RestoreCounters counters;
    private final int parallelism;
    private final int slots;
    private final Semaphore inFlight;
    private final AtomicReference<IOException> failure = new AtomicReference<>();

    ChunkPipeline(Repository repository, ExtentMap map, DiskSink sink, RestoreCounters counters, int parallelism) {
        this.repository = repository;
        this.map = map;
        this.index = ChunkExtents.of(map);
        this.sink = sink;
        this.counters = counters;
        this.parallelism = parallelism;
        this.slots = parallelism * SLOTS_PER_THREAD;
        this.inFlight = new Semaphore(slots);
    }

    void run() throws IOException {
        ExecutorService pool = Executors.newFixedThreadPool(parallelism, r -> {
            Thread t = new Thread(r, "coldcopy-restore-" + THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        try {
            submitAll(pool);
            // every slot back: all chunks verified and written
            inFlight.acquire(slots);
            inFlight.release(slots);
            pool.shutdown();
            if (!pool.awaitTermination(12, TimeUnit.HOURS)) {
                throw new IOException("restore did not finish");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        } finally {
            pool.shutdownNow();
        }
        if (failure.get() != null) {
            throw failure.get();
        }
    }

    private void submitAll(ExecutorService pool) throws InterruptedException {
        for (int c = 0; c < index.chunkCount() && failure.get() == null; c++) {
            inFlight.acquire();
            if (failure.get() != null) {
                inFlight.release();
                break;
            }
            int chunk = c;
            pool.execute(() -> restoreChunk(chunk));
        }
    }

    /** Runs on a pool thread; the slot is released once the chunk's last write completed (or failed). */
    private void restoreChunk(int chunk) {
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        try {
            writeChunk(chunk, writes);
        } catch (IOException e) {
            failure.compareAndSet(null, e);
        } catch (RuntimeException e) {
            failure.compareAndSet(null, new IOException(e.toString(), e));
        }
        CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).whenComplete((v, t) -> {
            if (t != null) {
                failure.compareAndSet(null, asIOException(t));
            }
            inFlight.release();
        });
    }

    private void writeChunk(int chunk, List<CompletableFuture<Void>> writes) throws IOException {
        ExtentMap.ChunkRef ref = map.chunks().get(chunk);
        byte[] plain = repository.readChunk(ref.address());
        if (plain.length != ref.length()) {
            throw new IOException("chunk " + ref.address() + ": holds " + plain.length + " bytes, the manifest expects " + ref.length());
        }
        for (int i : index.extentsOf(chunk)) {
            var e = map.get(i);
            writes.add(sink.writeAsync(e.offset(), plain, e.chunkOffset(), (int) e.length()));
            counters.bytes.addAndGet(e.length());
        }
        counters.chunks.incrementAndGet();
    }

    private static IOException asIOException(Throwable t) {
        Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        return cause instanceof IOException io ? io : new IOException(cause.toString(), cause);
    }
}
