package dev.coldcopy.nbd.camel;

import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A lazy stream of the chunks of an export, reading ahead a bounded number of chunks.
 *
 * <p>At most {@code readAhead} chunks are buffered or being read beyond the one last returned, so memory
 * stays at about {@code (readAhead + 1) * chunkSize} however large the export. ZERO chunks are never
 * read. With zero detection, a DATA chunk that came back all zero is returned as ZERO (body null), and
 * one holding a run of at least {@link #MIN_ZERO_RUN} zero bytes (in 4 KiB blocks aligned to the export)
 * is returned as several chunks: data, zero, data...
 *
 * <p>The iterator closes its resource (normally the NBD connection) when it is exhausted, when a read
 * fails, or when {@link #close()} is called, whichever comes first. Read failures surface from
 * {@link #next()} as {@link UncheckedIOException} wrapping the client's {@code NbdException}.
 */
public final class NbdChunkIterator implements Iterator<NbdChunk>, Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(NbdChunkIterator.class);

    private record Pending(ChunkRange range, byte[] data, CompletableFuture<Void> read) {}

    private record Piece(long offset, int length, NbdChunkKind kind, byte[] data) {}

    /** Zero runs inside a read chunk shorter than this stay data (see {@link ZeroDetector#split}). */
    public static final int MIN_ZERO_RUN = 64 * 1024;

    private final Iterator<ChunkRange> plan;
    private final RangeReader reader;
    private final long exportSize;
    private final int readAhead;
    private final boolean zeroDetect;
    private final boolean emptyMarker;
    private final AutoCloseable resource;
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private final ArrayDeque<Piece> ready = new ArrayDeque<>();
    private long index;
    private boolean closed;
    private boolean markerDue;
    private BooleanSupplier stopWhen;
    private int maxPending;
    private long dataBytes;
    private long zeroBytes;

    /**
     * @param plan the chunks to emit, in order (e.g. a {@link ChunkRangeSource})
     * @param reader reads DATA chunks
     * @param readAhead how many chunks may be buffered or in flight beyond the one returned (at least 1)
     * @param zeroDetect report DATA chunks that read as all zero as ZERO
     * @param emptyMarker when the plan is empty, return one {@link NbdChunkKind#NONE} chunk marked last
     * @param resource closed when the iterator is exhausted or closed (may be null)
     */
    public NbdChunkIterator(Iterator<ChunkRange> plan, RangeReader reader, long exportSize, int readAhead,
                            boolean zeroDetect, boolean emptyMarker, AutoCloseable resource) {
        if (readAhead < 1) {
            throw new IllegalArgumentException("readAhead must be at least 1, got " + readAhead);
        }
        this.plan = plan;
        this.reader = reader;
        this.exportSize = exportSize;
        this.readAhead = readAhead;
        this.zeroDetect = zeroDetect;
        this.emptyMarker = emptyMarker;
        this.resource = resource;
    }

    /**
     * Ends the stream (closing it) as soon as {@code condition} holds when asked for more. The producer
     * passes "the exchange that owns this body has failed": after a failed sub-exchange, Camel's splitter
     * drains the rest of the iterator before closing it, which for a disk would mean reading all the rest.
     */
    public NbdChunkIterator stopWhen(BooleanSupplier condition) {
        this.stopWhen = condition;
        return this;
    }

    @Override
    public boolean hasNext() {
        if (closed) {
            return false;
        }
        if (stopWhen != null && stopWhen.getAsBoolean()) {
            LOG.debug("chunk stream stopped after {} chunks: its exchange failed", index);
            close();
            return false;
        }
        fill();
        if (!pending.isEmpty() || !ready.isEmpty()) {
            return true;
        }
        if (emptyMarker && index == 0) {
            markerDue = true;
            return true;
        }
        close();
        return false;
    }

    @Override
    public NbdChunk next() {
        if (!hasNext()) {
            throw new NoSuchElementException("no more chunks");
        }
        if (markerDue) {
            markerDue = false;
            index++;
            NbdChunk marker = new NbdChunk(0, 0, 0, NbdChunkKind.NONE, null, true, exportSize);
            close();
            return marker;
        }
        if (ready.isEmpty()) {
            Pending p = pending.poll();
            fill(); // keep the reads ahead going while the caller works on this chunk
            expand(p, await(p));
        }
        Piece piece = ready.poll();
        if (piece.kind() == NbdChunkKind.DATA) {
            dataBytes += piece.length();
        } else {
            zeroBytes += piece.length();
        }
        boolean last = ready.isEmpty() && pending.isEmpty() && !planHasNext();
        NbdChunk chunk = new NbdChunk(index++, piece.offset(), piece.length(), piece.kind(), piece.data(), last, exportSize);
        if (last) {
            close();
        }
        return chunk;
    }

    /** A read chunk becomes one piece, or several when zero detection finds long zero runs in it. */
    private void expand(Pending p, byte[] data) {
        ChunkRange range = p.range();
        if (range.kind() != NbdChunkKind.DATA || !zeroDetect) {
            ready.add(new Piece(range.offset(), range.length(), range.kind(), data));
            return;
        }
        List<int[]> runs = ZeroDetector.split(data, range.offset(), MIN_ZERO_RUN);
        if (runs.size() == 1) {
            boolean zero = runs.get(0)[2] == 1;
            ready.add(new Piece(range.offset(), range.length(), zero ? NbdChunkKind.ZERO : NbdChunkKind.DATA,
                    zero ? null : data));
            return;
        }
        for (int[] r : runs) {
            boolean zero = r[2] == 1;
            ready.add(new Piece(range.offset() + r[0], r[1] - r[0], zero ? NbdChunkKind.ZERO : NbdChunkKind.DATA,
                    zero ? null : Arrays.copyOfRange(data, r[0], r[1])));
        }
    }

    /** The most chunks ever buffered or in flight at once (never above readAhead). */
    public int maxPending() {
        return maxPending;
    }

    /** Chunks returned so far. */
    public long chunkCount() {
        return index;
    }

    /** Bytes returned as DATA so far. */
    public long dataBytes() {
        return dataBytes;
    }

    /** Bytes returned as ZERO so far. */
    public long zeroBytes() {
        return zeroBytes;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        ready.clear();
        pending.clear(); // reads still in flight fail or finish when the resource closes; nobody waits on them
        if (resource != null) {
            try {
                resource.close();
            } catch (Exception e) {
                LOG.debug("closing NBD chunk source failed: {}", e.toString());
            }
        }
    }

    private void fill() {
        while (!closed && pending.size() < readAhead && planHasNext()) {
            ChunkRange range = plan.next();
            Pending p;
            if (range.kind() == NbdChunkKind.DATA) {
                byte[] data = new byte[range.length()];
                p = new Pending(range, data, reader.readAsync(range.offset(), ByteBuffer.wrap(data)));
            } else {
                p = new Pending(range, null, CompletableFuture.completedFuture(null));
            }
            pending.add(p);
            maxPending = Math.max(maxPending, pending.size());
        }
    }

    private boolean planHasNext() {
        try {
            return plan.hasNext();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private byte[] await(Pending p) {
        try {
            p.read().get();
            return p.data();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new UncheckedIOException(new InterruptedIOException("interrupted while reading chunk at offset "
                    + p.range().offset()));
        } catch (ExecutionException e) {
            close();
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw new UncheckedIOException(io.getMessage(), io);
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new UncheckedIOException(new IOException(cause));
        }
    }
}
