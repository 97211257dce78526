package dev.coldcopy.nbd.camel;

import dev.coldcopy.nbd.protocol.Extent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plans the chunks of a whole export lazily, one window of block status at a time, so that neither the
 * extent lists nor the plan of a huge disk are ever held in memory at once. Windows are multiples of the
 * chunk size, so the result is the same as planning the whole export in one go.
 */
public final class ChunkRangeSource implements Iterator<ChunkRange> {
    private static final Logger LOG = LoggerFactory.getLogger(ChunkRangeSource.class);

    /** Chunks per block-status window: 256 x 4 MiB = 1 GiB per round trip. */
    static final int CHUNKS_PER_WINDOW = 256;

    private final ExtentSource extents;
    private final long exportSize;
    private final String selectionContext;
    private final String allocationContext;
    private final long chunkSize;
    private final long windowSize;
    private final ArrayDeque<ChunkRange> ready = new ArrayDeque<>();
    private long nextWindow;
    // the scan of a whole export (the extent enumeration of a backup) is logged once, when it ends
    private long scanNanos;
    private int requests;
    private long rangesPlanned;
    private long dataBytes;

    /**
     * @param selectionContext a dirty-bitmap context whose bit 0 selects the ranges to emit, or null for all
     * @param allocationContext {@code base:allocation} when negotiated (splits DATA and ZERO), else null
     */
    public ChunkRangeSource(ExtentSource extents, long exportSize, String selectionContext,
                            String allocationContext, long chunkSize) {
        this(extents, exportSize, selectionContext, allocationContext, chunkSize, chunkSize * CHUNKS_PER_WINDOW);
    }

    ChunkRangeSource(ExtentSource extents, long exportSize, String selectionContext, String allocationContext,
                     long chunkSize, long windowSize) {
        ChunkPlanner.checkChunkSize(chunkSize);
        if (windowSize <= 0 || windowSize % chunkSize != 0) {
            throw new IllegalArgumentException("window " + windowSize + " is not a multiple of chunk size " + chunkSize);
        }
        this.extents = extents;
        this.exportSize = exportSize;
        this.selectionContext = selectionContext;
        this.allocationContext = allocationContext;
        this.chunkSize = chunkSize;
        this.windowSize = windowSize;
    }

    @Override
    public boolean hasNext() {
        while (ready.isEmpty() && nextWindow < exportSize) {
            planNextWindow();
        }
        return !ready.isEmpty();
    }

    @Override
    public ChunkRange next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        return ready.poll();
    }

    private void planNextWindow() {
        long began = System.nanoTime();
        long start = nextWindow;
        long end = Math.min(exportSize, start + windowSize);
        List<String> contexts = new ArrayList<>(2);
        if (selectionContext != null) {
            contexts.add(selectionContext);
        }
        if (allocationContext != null && !allocationContext.equals(selectionContext)) {
            contexts.add(allocationContext);
        }
        List<Extent> selection = null;
        List<Extent> allocation = null;
        if (!contexts.isEmpty()) {
            Map<String, List<Extent>> status;
            try {
                requests++;
                status = extents.blockStatus(contexts, start, end - start);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            selection = selectionContext == null ? null : require(status, selectionContext, start, end);
            allocation = allocationContext == null ? null : require(status, allocationContext, start, end);
        }
        List<ChunkRange> planned = ChunkPlanner.plan(start, end, selection, allocation, chunkSize);
        for (ChunkRange r : planned) {
            if (r.kind() == NbdChunkKind.DATA) {
                dataBytes += r.length();
            }
        }
        rangesPlanned += planned.size();
        ready.addAll(planned);
        nextWindow = end;
        scanNanos += System.nanoTime() - began;
        if (nextWindow >= exportSize) {
            LOG.info("scanned {} bytes of {}: {} ranges, {} bytes to read, from {} block-status requests in {} ms",
                    exportSize, selectionContext != null ? selectionContext : allocationContext != null ? allocationContext : "the export",
                    rangesPlanned, dataBytes, requests, scanNanos / 1_000_000);
        }
    }

    private static List<Extent> require(Map<String, List<Extent>> status, String context, long start, long end) {
        List<Extent> list = status.get(context);
        if (list == null) {
            throw new UncheckedIOException(new IOException(
                    "server sent no block status for " + context + " over [" + start + ", " + end + ")"));
        }
        return list;
    }
}
