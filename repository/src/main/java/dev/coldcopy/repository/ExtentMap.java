package dev.coldcopy.repository;

import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The map from disk ranges to chunks: sorted, non-overlapping extents over a chunk table. Kept in
 * parallel primitive arrays so a 1 TiB disk (262144 entries of 4 MiB) costs a few MiB and milliseconds.
 * Ranges not in the map are holes. Immutable.
 */
public final class ExtentMap {
    /** a chunk referenced by the map, with its plaintext length */
    public record ChunkRef(ChunkAddress address, int length) {
    }

    private static final int ZERO = -1;

    private final long[] starts;
    private final long[] lengths;
    private final int[] chunkIndex; // ZERO or an index into chunks
    private final int[] chunkOffsets;
    private final int size;
    private final List<ChunkRef> chunks;

    ExtentMap(long[] starts, long[] lengths, int[] chunkIndex, int[] chunkOffsets, int size, List<ChunkRef> chunks) {
        this.starts = starts;
        this.lengths = lengths;
        this.chunkIndex = chunkIndex;
        this.chunkOffsets = chunkOffsets;
        this.size = size;
        this.chunks = List.copyOf(chunks);
    }

    public static ExtentMap empty() {
        return new ExtentMap(new long[0], new long[0], new int[0], new int[0], 0, List.of());
    }

    public int size() {
        return size;
    }

    public List<ChunkRef> chunks() {
        return chunks;
    }

    public SnapshotExtent get(int i) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException(i);
        }
        int c = chunkIndex[i];
        if (c == ZERO) {
            return new SnapshotExtent(starts[i], lengths[i], SnapshotExtent.Type.ZERO, null, 0, 0);
        }
        ChunkRef ref = chunks.get(c);
        return new SnapshotExtent(starts[i], lengths[i], SnapshotExtent.Type.DATA, ref.address(), chunkOffsets[i], ref.length());
    }

    /** index into {@link #chunks()} of entry i, or -1 for ZERO */
    public int chunkIndex(int i) {
        return chunkIndex[i];
    }

    public List<SnapshotExtent> extents() {
        return new AbstractList<>() {
            @Override
            public SnapshotExtent get(int index) {
                return ExtentMap.this.get(index);
            }

            @Override
            public int size() {
                return size;
            }
        };
    }

    public long dataBytes() {
        long sum = 0;
        for (int i = 0; i < size; i++) {
            if (chunkIndex[i] != ZERO) {
                sum += lengths[i];
            }
        }
        return sum;
    }

    public long zeroBytes() {
        long sum = 0;
        for (int i = 0; i < size; i++) {
            if (chunkIndex[i] == ZERO) {
                sum += lengths[i];
            }
        }
        return sum;
    }

    public long end() {
        return size == 0 ? 0 : starts[size - 1] + lengths[size - 1];
    }

    /**
     * This map with {@code top} laid over it: where top has an extent it wins, elsewhere this map's
     * extents stay (cut where top's begin and end). The chunk table is compacted to what is referenced.
     */
    public ExtentMap overlay(ExtentMap top) {
        // pieces of this map not covered by top, in order: (entry, start, length)
        int[] pieceEntry = new int[size + top.size + 1];
        long[] pieceStart = new long[pieceEntry.length];
        long[] pieceLength = new long[pieceEntry.length];
        int pieces = 0;
        int k = 0;
        for (int i = 0; i < size; i++) {
            long pos = starts[i];
            long end = starts[i] + lengths[i];
            while (pos < end) {
                while (k < top.size && top.starts[k] + top.lengths[k] <= pos) {
                    k++;
                }
                if (k < top.size && top.starts[k] <= pos) {
                    pos = top.starts[k] + top.lengths[k];
                    continue;
                }
                long next = k < top.size ? Math.min(end, top.starts[k]) : end;
                if (pieces == pieceEntry.length) {
                    int n = pieces * 2;
                    pieceEntry = Arrays.copyOf(pieceEntry, n);
                    pieceStart = Arrays.copyOf(pieceStart, n);
                    pieceLength = Arrays.copyOf(pieceLength, n);
                }
                pieceEntry[pieces] = i;
                pieceStart[pieces] = pos;
                pieceLength[pieces] = next - pos;
                pieces++;
                pos = next;
            }
        }
        // merge the pieces with top's extents: both sorted and disjoint from each other
        Builder out = new Builder(pieces + top.size + 1);
        int p = 0;
        int j = 0;
        while (p < pieces || j < top.size) {
            if (j >= top.size || (p < pieces && pieceStart[p] < top.starts[j])) {
                out.addFrom(this, pieceEntry[p], pieceStart[p], pieceLength[p]);
                p++;
            } else {
                out.addFrom(top, j, top.starts[j], top.lengths[j]);
                j++;
            }
        }
        return out.build();
    }

    /**
     * Builds a map. Extents may be added in any order; {@link #build()} sorts them, rejects overlaps,
     * merges neighbours that continue each other (same chunk, consecutive offsets; or both ZERO) and
     * drops chunks nobody references.
     */
    public static final class Builder {
        private long[] starts;
        private long[] lengths;
        private int[] chunkIndex;
        private int[] chunkOffsets;
        private int size;
        private final List<ChunkRef> chunks = new ArrayList<>();
        private final Map<ChunkAddress, Integer> chunkIds = new HashMap<>();
        boolean needsSort;

        public Builder() {
            this(16);
        }

        public Builder(int capacity) {
            capacity = Math.max(capacity, 4);
            starts = new long[capacity];
            lengths = new long[capacity];
            chunkIndex = new int[capacity];
            chunkOffsets = new int[capacity];
        }

        public Builder addZero(long offset, long length) {
            add(offset, length, ZERO, 0);
            return this;
        }

        public Builder addData(long offset, long length, ChunkAddress chunk, int chunkLength, int chunkOffset) {
            if (chunkOffset < 0 || chunkOffset + length > chunkLength) {
                throw new IllegalArgumentException("extent at " + offset + " reads past its chunk");
            }
            add(offset, length, chunkId(chunk, chunkLength), chunkOffset);
            return this;
        }

        private int chunkId(ChunkAddress chunk, int chunkLength) {
            Integer id = chunkIds.get(chunk);
            if (id == null) {
                id = chunks.size();
                chunks.add(new ChunkRef(chunk, chunkLength));
                chunkIds.put(chunk, id);
            }
            return id;
        }

        void addFrom(ExtentMap map, int i, long offset, long length) {
            if (length <= 0) {
                return;
            }
            int c = map.chunkIndex[i];
            if (c == ZERO) {
                add(offset, length, ZERO, 0);
            } else {
                ChunkRef ref = map.chunks.get(c);
                add(offset, length, chunkId(ref.address(), ref.length()), map.chunkOffsets[i] + (int) (offset - map.starts[i]));
            }
        }

        private void add(long offset, long length, int chunk, int chunkOffset) {
            if (offset < 0 || length <= 0) {
                throw new IllegalArgumentException("bad extent: offset " + offset + ", length " + length);
            }
            if (size > 0 && !needsSort && offset < starts[size - 1]) {
                needsSort = true;
            }
            if (size == starts.length) {
                int n = size * 2;
                starts = Arrays.copyOf(starts, n);
                lengths = Arrays.copyOf(lengths, n);
                chunkIndex = Arrays.copyOf(chunkIndex, n);
                chunkOffsets = Arrays.copyOf(chunkOffsets, n);
            }
            starts[size] = offset;
            lengths[size] = length;
            chunkIndex[size] = chunk;
            chunkOffsets[size] = chunkOffset;
            size++;
        }

        public ExtentMap build() {
            if (needsSort) {
                sort();
            }
            int[] remap = new int[chunks.size()];
            Arrays.fill(remap, -1);
            List<ChunkRef> used = new ArrayList<>();
            long[] s = new long[size];
            long[] l = new long[size];
            int[] c = new int[size];
            int[] o = new int[size];
            int n = 0;
            for (int i = 0; i < size; i++) {
                if (n > 0 && starts[i] < s[n - 1] + l[n - 1]) {
                    throw new IllegalArgumentException("extents overlap at offset " + starts[i]);
                }
                int ci = chunkIndex[i];
                if (ci != ZERO && remap[ci] < 0) {
                    remap[ci] = used.size();
                    used.add(chunks.get(ci));
                }
                int mapped = ci == ZERO ? ZERO : remap[ci];
                if (n > 0 && s[n - 1] + l[n - 1] == starts[i] && c[n - 1] == mapped
                        && (mapped == ZERO || o[n - 1] + l[n - 1] == chunkOffsets[i])) {
                    l[n - 1] += lengths[i];
                    continue;
                }
                s[n] = starts[i];
                l[n] = lengths[i];
                c[n] = mapped;
                o[n] = chunkOffsets[i];
                n++;
            }
            return new ExtentMap(s, l, c, o, n, used);
        }

        private void sort() {
            Integer[] order = new Integer[size];
            for (int i = 0; i < size; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> Long.compare(starts[a], starts[b]));
            long[] s = new long[starts.length];
            long[] l = new long[starts.length];
            int[] c = new int[starts.length];
            int[] o = new int[starts.length];
            for (int i = 0; i < size; i++) {
                int k = order[i];
                s[i] = starts[k];
                l[i] = lengths[k];
                c[i] = chunkIndex[k];
                o[i] = chunkOffsets[k];
            }
            starts = s;
            lengths = l;
            chunkIndex = c;
            chunkOffsets = o;
            needsSort = false;
        }
    }

    // package-private raw access for the manifest codec
    long start(int i) {
        return starts[i];
    }

    long length(int i) {
        return lengths[i];
    }

    int chunkOffset(int i) {
        return chunkOffsets[i];
    }
}
