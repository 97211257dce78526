package dev.coldcopy.nbd.camel;

import static dev.coldcopy.nbd.camel.NbdChunkKind.DATA;
import static dev.coldcopy.nbd.camel.NbdChunkKind.ZERO;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.nbd.protocol.Extent;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ChunkPlannerTest {

    static final long K = 1024;
    static final long M = 1024 * K;

    static Extent e(long offset, long length, int flags) {
        return new Extent(offset, length, flags);
    }

    static ChunkRange c(long offset, long length, NbdChunkKind kind) {
        return new ChunkRange(offset, (int) length, kind);
    }

    @Test
    void wholeExportAllDataIsCutAtChunkBoundaries() {
        assertThat(ChunkPlanner.plan(0, 10 * M, null, null, 4 * M))
                .containsExactly(c(0, 4 * M, DATA), c(4 * M, 4 * M, DATA), c(8 * M, 2 * M, DATA));
    }

    @Test
    void allocationSplitsDataAndZeroAndMergesAdjacentEqualKinds() {
        List<Extent> alloc = List.of(e(0, 1 * M, 0), e(1 * M, 1 * M, 0), e(2 * M, 3 * M, 3), e(5 * M, 1 * M, 2),
                e(6 * M, 512 * K, 1), e(6 * M + 512 * K, 1536 * K, 0));
        assertThat(ChunkPlanner.plan(0, 8 * M, null, alloc, 4 * M)).containsExactly(
                c(0, 2 * M, DATA),          // two data extents merged
                c(2 * M, 2 * M, ZERO),      // zero run cut at the 4 MiB boundary
                c(4 * M, 2 * M, ZERO),      // hole,zero and zero merged: both read as zeroes
                c(6 * M, 2 * M, DATA));     // a hole without the ZERO bit must be read
    }

    @Test
    void dirtyRangesSelectAndAllocationSplits() {
        // dirty: [64K,192K) and [4M-64K, 4M+64K) and [9M, 10M)
        List<Extent> dirty = List.of(e(0, 64 * K, 0), e(64 * K, 128 * K, 1), e(192 * K, 4 * M - 256 * K, 0),
                e(4 * M - 64 * K, 128 * K, 1), e(4 * M + 64 * K, 5 * M - 64 * K, 0), e(9 * M, 1 * M, 1),
                e(10 * M, 6 * M, 0));
        List<Extent> alloc = List.of(e(0, 128 * K, 0), e(128 * K, 9 * M - 128 * K, 3), e(9 * M, 512 * K, 2),
                e(9 * M + 512 * K, 7 * M - 512 * K, 0));
        assertThat(ChunkPlanner.plan(0, 16 * M, dirty, alloc, 4 * M)).containsExactly(
                c(64 * K, 64 * K, DATA), c(128 * K, 64 * K, ZERO),
                c(4 * M - 64 * K, 64 * K, ZERO), c(4 * M, 64 * K, ZERO),
                c(9 * M, 512 * K, ZERO), c(9 * M + 512 * K, 512 * K, DATA));
    }

    @Test
    void cleanBitmapGivesNoChunks() {
        assertThat(ChunkPlanner.plan(0, 8 * M, List.of(e(0, 8 * M, 0)), List.of(e(0, 8 * M, 0)), 4 * M)).isEmpty();
    }

    @Test
    void extentsReachingPastTheRangeAreClipped() {
        // a server may report a last extent longer than asked; the window must not grow
        assertThat(ChunkPlanner.plan(4 * M, 8 * M, List.of(e(0, 16 * M, 1)), List.of(e(0, 16 * M, 0)), 4 * M))
                .containsExactly(c(4 * M, 4 * M, DATA));
    }

    @Test
    void allocationGapsAreReadAsData() {
        assertThat(ChunkPlanner.plan(0, 3 * M, null, List.of(e(1 * M, 1 * M, 3)), 4 * M))
                .containsExactly(c(0, 1 * M, DATA), c(1 * M, 1 * M, ZERO), c(2 * M, 1 * M, DATA));
    }

    @Test
    void badChunkSizeIsRejectedWithReason() {
        assertThatThrownBy(() -> ChunkPlanner.plan(0, M, null, null, 1000))
                .hasMessageContaining("chunkSize must be a multiple of 4096");
    }

    /** Property check over random extent lists: exact cover of the dirty set, kinds right, no boundary crossed. */
    @Test
    void randomPlansCoverExactlyTheDirtyRangesAndNeverCrossBoundaries() {
        Random random = new Random(42);
        for (int round = 0; round < 300; round++) {
            long size = (1 + random.nextInt(64)) * 64 * K;
            long chunk = (1 + random.nextInt(8)) * 4 * K;
            List<Extent> dirty = randomExtents(random, size, 2);
            List<Extent> alloc = randomExtents(random, size, 4);
            List<ChunkRange> plan = ChunkPlanner.plan(0, size, dirty, alloc, chunk);
            // expected per 4K block: absent (clean), DATA or ZERO
            NbdChunkKind[] expected = new NbdChunkKind[(int) (size / (4 * K))];
            for (Extent d : dirty) {
                for (long o = d.offset(); o < d.end(); o += 4 * K) {
                    if ((d.flags() & 1) != 0) {
                        expected[(int) (o / (4 * K))] = kindAt(alloc, o);
                    }
                }
            }
            NbdChunkKind[] actual = new NbdChunkKind[expected.length];
            long previousEnd = -1;
            for (ChunkRange r : plan) {
                assertThat(r.offset()).isGreaterThan(previousEnd - 1);
                previousEnd = r.end();
                assertThat(r.offset() / chunk).as("chunk %s crosses a %d boundary", r, chunk)
                        .isEqualTo((r.end() - 1) / chunk);
                for (long o = r.offset(); o < r.end(); o += 4 * K) {
                    actual[(int) (o / (4 * K))] = r.kind();
                }
            }
            assertThat(actual).as("round %d", round).containsExactly(expected);
        }
    }

    private static NbdChunkKind kindAt(List<Extent> alloc, long offset) {
        for (Extent a : alloc) {
            if (a.offset() <= offset && offset < a.end()) {
                return (a.flags() & 2) != 0 ? ZERO : DATA;
            }
        }
        return DATA;
    }

    private static List<Extent> randomExtents(Random random, long size, int flagValues) {
        List<Extent> out = new ArrayList<>();
        long pos = 0;
        while (pos < size) {
            long len = Math.min(size - pos, (1 + random.nextInt(12)) * 4 * K);
            out.add(e(pos, len, random.nextInt(flagValues)));
            pos += len;
        }
        return out;
    }
}
