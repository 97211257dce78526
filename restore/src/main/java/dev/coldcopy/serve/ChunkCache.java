package dev.coldcopy.serve;

import dev.coldcopy.repository.ChunkAddress;
import dev.coldcopy.repository.ExtentMap;
import dev.coldcopy.repository.Repository;
import java.io.IOException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Verified chunks of a repository, least recently used dropped first once their plaintext exceeds the
 * budget. A chunk is fetched once however many readers want it at the same time; a failed fetch is not
 * remembered, so the next read tries the backend again (an outage ends, a retry succeeds).
 */
public final class ChunkCache implements AutoCloseable {
    /** what {@code serve} keeps in memory unless told otherwise */
    public static final long DEFAULT_BYTES = 256L * 1024 * 1024;
    /**
     * At most this share of the JVM's heap holds cached chunks: the chunks being read, decompressed and
     * read ahead need the rest (a 256 MiB cache in bin/coldcopy's 256 MiB heap ran out of memory).
     */
    static final int HEAP_SHARE_DIVISOR = 4;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ChunkCache.class);

    private final Repository repository;
    private final long budget;
    private static final java.util.concurrent.atomic.AtomicInteger THREADS = new java.util.concurrent.atomic.AtomicInteger();

    private final ExecutorService readAhead; // null: no read-ahead
    private final LinkedHashMap<ChunkAddress, byte[]> chunks = new LinkedHashMap<>(64, 0.75f, true);
    private final Map<ChunkAddress, CompletableFuture<byte[]>> loading = new ConcurrentHashMap<>();
    private final java.util.Set<ChunkAddress> queued = ConcurrentHashMap.newKeySet();
    private long held;
    private long hits;
    private long misses;

    public ChunkCache(Repository repository, long budget) {
        this(repository, budget, 0);
    }

    /**
     * With {@code readAheadThreads} > 0, {@link #prefetch} fetches chunks on that many daemon threads
     * (the cache's own pool, shut down by {@link #close()}).
     */
    public ChunkCache(Repository repository, long budget, int readAheadThreads) {
        if (budget < 0) {
            throw new IllegalArgumentException("cache size must not be negative: " + budget);
        }
        this.repository = repository;
        this.budget = withinHeap(budget, Runtime.getRuntime().maxMemory());
        if (this.budget < budget) {
            LOG.debug("chunk cache limited to {} MiB, a quarter of the heap (-Xmx), instead of {} MiB", this.budget >> 20, budget >> 20);
        }
        this.readAhead = readAheadThreads <= 0 ? null : Executors.newFixedThreadPool(readAheadThreads, r -> {
            Thread t = new Thread(r, "coldcopy-serve-readahead-" + THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    static long withinHeap(long requested, long maxHeap) {
        return Math.min(requested, maxHeap / HEAP_SHARE_DIVISOR);
    }

    /**
     * Starts fetching a chunk a reader will probably want next, unless it is here or on its way. Only
     * when the budget leaves room for it beside what is being read; failures are left for the real read.
     */
    public void prefetch(ExtentMap.ChunkRef ref) {
        if (readAhead == null || ref.length() > budget / 4) {
            return;
        }
        synchronized (this) {
            if (chunks.containsKey(ref.address()) || loading.containsKey(ref.address())) {
                return;
            }
        }
        // many small reads of one chunk ask for the same read-ahead: queue each chunk once
        if (!queued.add(ref.address())) {
            return;
        }
        try {
            readAhead.execute(() -> {
                queued.remove(ref.address());
                try {
                    get(ref);
                } catch (IOException | RuntimeException ignored) {
                    // the client's own read of this chunk will fail (and be logged) if it still does
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            queued.remove(ref.address()); // closing: nothing to prefetch for
        }
    }

    public boolean readsAhead() {
        return readAhead != null;
    }

    @Override
    public void close() {
        if (readAhead != null) {
            readAhead.shutdownNow();
        }
    }

    /** the chunk's plaintext, verified (hash == address) and of the length the manifest names */
    public byte[] get(ExtentMap.ChunkRef ref) throws IOException {
        ChunkAddress address = ref.address();
        synchronized (this) {
            byte[] cached = chunks.get(address);
            if (cached != null) {
                hits++;
                return cached;
            }
            misses++;
        }
        CompletableFuture<byte[]> mine = new CompletableFuture<>();
        CompletableFuture<byte[]> other = loading.putIfAbsent(address, mine);
        if (other != null) {
            return await(other, address);
        }
        try {
            byte[] plain = repository.readChunk(address);
            if (plain.length != ref.length()) {
                throw new IOException("chunk " + address.hex() + ": holds " + plain.length + " bytes, the manifest expects " + ref.length());
            }
            remember(address, plain);
            mine.complete(plain);
            return plain;
        } catch (IOException | RuntimeException e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            loading.remove(address, mine);
        }
    }

    private synchronized void remember(ChunkAddress address, byte[] plain) {
        if (plain.length > budget) {
            return;
        }
        if (chunks.put(address, plain) == null) {
            held += plain.length;
        }
        Iterator<Map.Entry<ChunkAddress, byte[]>> oldest = chunks.entrySet().iterator();
        while (held > budget && oldest.hasNext()) {
            held -= oldest.next().getValue().length;
            oldest.remove();
        }
    }

    private static byte[] await(CompletableFuture<byte[]> loading, ChunkAddress address) throws IOException {
        try {
            return loading.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while chunk " + address.hex() + " was read");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IOException("chunk " + address.hex() + ": " + cause, cause);
        }
    }

    /** plaintext bytes held now */
    public synchronized long heldBytes() {
        return held;
    }

    public long budget() {
        return budget;
    }

    public synchronized long hits() {
        return hits;
    }

    public synchronized long misses() {
        return misses;
    }
}
