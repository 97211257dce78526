package dev.coldcopy.serve;

import dev.coldcopy.repository.ExtentMap;
import dev.coldcopy.repository.SnapshotKind;
import dev.coldcopy.repository.SnapshotManifest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A snapshot seen as a read-only disk: reads assemble bytes from verified chunks, ranges in ZERO extents
 * read as zero. Ranges outside the map read as zero for a snapshot that stands alone (a full, or an
 * incremental, which is a synthetic full); a delta's are unchanged since its checkpoint and come from
 * its base image, as {@code restore --onto} copies them.
 */
public final class SnapshotImage {

    /** one run of a range: data (from chunks or the base), or zero (a ZERO extent or a hole) */
    public record Piece(long offset, long length, boolean data) {
        public long end() {
            return offset + length;
        }
    }

    /** chunks fetched ahead of a read, counting the one it needs */
    static final int READ_AHEAD_CHUNKS = 4;

    private final SnapshotManifest manifest;
    private final ExtentMap map;
    private final ChunkCache cache;
    private final BaseImage base; // null unless a delta

    public SnapshotImage(SnapshotManifest manifest, ChunkCache cache) {
        this(manifest, cache, null);
    }

    /** {@code base}: the image a delta applies to; required for a delta, refused for any other snapshot */
    public SnapshotImage(SnapshotManifest manifest, ChunkCache cache, BaseImage base) {
        if (manifest.kind() == SnapshotKind.DELTA && base == null) {
            throw new IllegalArgumentException("snapshot " + manifest.id() + " is a delta since checkpoint '"
                    + manifest.header().checkpointUsed() + "': its unchanged ranges are only in its base image, so it cannot be served"
                    + " alone (--onto BASE)");
        }
        if (manifest.kind() != SnapshotKind.DELTA && base != null) {
            throw new IllegalArgumentException("--onto applies to delta snapshots only; snapshot " + manifest.id() + " is "
                    + manifest.kind().label() + " and is served on its own");
        }
        if (base != null && base.size() != manifest.virtualSize()) {
            throw new IllegalArgumentException("base image " + base.path() + " is " + base.size() + " bytes, the snapshot's disk "
                    + manifest.virtualSize());
        }
        this.manifest = manifest;
        this.map = manifest.extents();
        this.cache = cache;
        this.base = base;
    }

    public SnapshotManifest manifest() {
        return manifest;
    }

    public long size() {
        return manifest.virtualSize();
    }

    public ChunkCache cache() {
        return cache;
    }

    /** the runs of [offset, offset+length), data or zero, neighbours of the same kind merged */
    public List<Piece> pieces(long offset, long length) {
        List<Piece> out = new ArrayList<>();
        long end = offset + length;
        long pos = offset;
        for (int i = firstEndingAfter(offset); i < map.size() && pos < end; i++) {
            var e = map.get(i);
            if (e.offset() >= end) {
                break;
            }
            if (e.offset() > pos) {
                add(out, pos, e.offset() - pos, base != null);
                pos = e.offset();
            }
            long to = Math.min(end, e.end());
            add(out, pos, to - pos, e.isData());
            pos = to;
        }
        if (pos < end) {
            add(out, pos, end - pos, base != null);
        }
        return out;
    }

    private static void add(List<Piece> out, long offset, long length, boolean data) {
        if (length <= 0) {
            return;
        }
        if (!out.isEmpty()) {
            Piece last = out.get(out.size() - 1);
            if (last.data() == data && last.end() == offset) {
                out.set(out.size() - 1, new Piece(last.offset(), last.length() + length, data));
                return;
            }
        }
        out.add(new Piece(offset, length, data));
    }

    /**
     * Copies [offset, offset+length) into dst at dstOffset (dst must hold zeroes where the range holds
     * none: only data extents are copied). Throws when any chunk the range needs cannot be read or does
     * not verify; nothing of an unverified chunk is ever copied.
     */
    public void read(long offset, int length, byte[] dst, int dstOffset) throws IOException {
        read(offset, length, dst, dstOffset, false);
    }

    /**
     * As {@link #read(long, int, byte[], int)}; {@code sequential} (the reader has been reading front to
     * back) also starts fetching the next chunks of the map, so they are verified by the time it gets there.
     * Random readers do not ask for it: fetching chunks nobody reads would only slow them down.
     */
    public void read(long offset, int length, byte[] dst, int dstOffset, boolean sequential) throws IOException {
        long end = offset + length;
        int i = firstEndingAfter(offset);
        if (sequential) {
            readAheadFrom(i);
        }
        long pos = offset;
        for (; i < map.size(); i++) {
            var e = map.get(i);
            if (e.offset() >= end) {
                break;
            }
            long from = Math.max(offset, e.offset());
            long to = Math.min(end, e.end());
            readBase(pos, from, offset, dst, dstOffset);
            pos = to;
            if (!e.isData()) {
                continue;
            }
            byte[] chunk = cache.get(map.chunks().get(map.chunkIndex(i)));
            System.arraycopy(chunk, e.chunkOffset() + (int) (from - e.offset()), dst, dstOffset + (int) (from - offset), (int) (to - from));
        }
        readBase(pos, end, offset, dst, dstOffset);
    }

    /** a delta's [from, to), outside its map, from the base; nothing for a snapshot that stands alone */
    private void readBase(long from, long to, long offset, byte[] dst, int dstOffset) throws IOException {
        if (base != null && to > from) {
            base.read(from, (int) (to - from), dst, dstOffset + (int) (from - offset));
        }
    }

    /**
     * Clients read a disk mostly front to back: while this read waits for its chunk, the next few
     * chunks of the map are fetched and verified on the cache's read-ahead threads.
     */
    private void readAheadFrom(int entry) {
        if (!cache.readsAhead()) {
            return;
        }
        int wanted = READ_AHEAD_CHUNKS;
        int last = -1;
        for (int i = entry; i < map.size() && wanted > 0; i++) {
            int c = map.chunkIndex(i);
            if (c >= 0 && c != last) {
                cache.prefetch(map.chunks().get(c));
                last = c;
                wanted--;
            }
        }
    }

    /** index of the first extent ending after offset (map.size() if none) */
    private int firstEndingAfter(long offset) {
        int lo = 0;
        int hi = map.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (map.get(mid).end() <= offset) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
