package dev.coldcopy.nbd.camel;

import static dev.coldcopy.nbd.protocol.NbdProtocol.NBD_STATE_DIRTY;

import dev.coldcopy.nbd.protocol.Extent;
import dev.coldcopy.nbd.protocol.Extents;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns block-status extents into the list of chunks to emit. Pure logic: no I/O.
 *
 * <p>The selected ranges (the whole window, or only the ranges whose flag bit 0 is set in a dirty-bitmap
 * context) are split by {@code base:allocation} into DATA pieces (to read) and ZERO pieces (flag
 * NBD_STATE_ZERO: read as zeroes, so never read; a hole without it must still be read). Adjacent pieces of the same kind are merged and
 * then cut at every multiple of the chunk size, so a chunk never crosses such a boundary and a repository
 * can align its blocks to them.
 */
public final class ChunkPlanner {

    /** Smallest chunk size accepted: one 4 KiB block. */
    public static final long MIN_CHUNK_SIZE = 4096;
    /** Largest chunk size accepted: a chunk is one byte[]; 256 MiB keeps that sane. */
    public static final long MAX_CHUNK_SIZE = 256L * 1024 * 1024;

    private ChunkPlanner() {}

    /**
     * Plans the chunks of {@code [start, end)}.
     *
     * @param selection extents of a dirty-bitmap context (bit 0 = dirty), or null to take the whole range
     * @param allocation {@code base:allocation} extents, or null when the server does not offer them (all DATA)
     * @param chunkSize the grid no chunk crosses; a multiple of 4096
     * @return chunks in offset order, covering exactly the selected part of {@code [start, end)}
     */
    public static List<ChunkRange> plan(long start, long end, List<Extent> selection, List<Extent> allocation,
                                        long chunkSize) {
        checkChunkSize(chunkSize);
        if (start < 0 || end < start) {
            throw new IllegalArgumentException("bad range [" + start + ", " + end + ")");
        }
        List<Extent> selected = new ArrayList<>();
        for (long[] r : selectedRanges(start, end, selection)) {
            selected.add(new Extent(r[0], r[1] - r[0], NBD_STATE_DIRTY));
        }
        // Extents.intersect keeps the allocation flags per piece (absent = data); map them to two kinds
        List<ChunkRange> out = new ArrayList<>();
        long pieceStart = -1;
        long pieceEnd = -1;
        NbdChunkKind pieceKind = null;
        for (Extent e : Extents.intersect(selected, allocation == null ? List.of() : allocation)) {
            NbdChunkKind kind = e.isZero() ? NbdChunkKind.ZERO : NbdChunkKind.DATA;
            if (kind == pieceKind && e.offset() == pieceEnd) {
                pieceEnd = e.end();
                continue;
            }
            if (pieceKind != null) {
                cut(pieceStart, pieceEnd, pieceKind, chunkSize, out);
            }
            pieceStart = e.offset();
            pieceEnd = e.end();
            pieceKind = kind;
        }
        if (pieceKind != null) {
            cut(pieceStart, pieceEnd, pieceKind, chunkSize, out);
        }
        return out;
    }

    /** Rejects a chunk size that is not a positive multiple of 4096 up to {@link #MAX_CHUNK_SIZE}. */
    public static void checkChunkSize(long chunkSize) {
        if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE || chunkSize % MIN_CHUNK_SIZE != 0) {
            throw new IllegalArgumentException("chunkSize must be a multiple of 4096 between 4096 and "
                    + MAX_CHUNK_SIZE + ", got " + chunkSize);
        }
    }

    /** The selected sub-ranges of [start, end), merged where adjacent. */
    static List<long[]> selectedRanges(long start, long end, List<Extent> selection) {
        List<long[]> out = new ArrayList<>();
        if (start == end) {
            return out;
        }
        if (selection == null) {
            out.add(new long[] {start, end});
            return out;
        }
        for (Extent e : selection) {
            if ((e.flags() & NBD_STATE_DIRTY) == 0) {
                continue;
            }
            long s = Math.max(start, e.offset());
            long t = Math.min(end, e.end());
            if (s >= t) {
                continue;
            }
            long[] last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && last[1] == s) {
                last[1] = t;
            } else {
                out.add(new long[] {s, t});
            }
        }
        return out;
    }

    private static void cut(long start, long end, NbdChunkKind kind, long chunkSize, List<ChunkRange> out) {
        long pos = start;
        while (pos < end) {
            long boundary = (pos / chunkSize + 1) * chunkSize;
            long next = Math.min(end, boundary);
            out.add(new ChunkRange(pos, (int) (next - pos), kind));
            pos = next;
        }
    }
}
