package dev.coldcopy.nbd.camel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.nbd.protocol.Extent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChunkRangeSourceTest {

    static final long M = 1024 * 1024;

    /** Answers block status from fixed lists, like a server would (clipped to the request), and counts calls. */
    static final class FixedExtents implements ExtentSource {
        final Map<String, List<Extent>> all;
        final List<long[]> requests = new ArrayList<>();

        FixedExtents(Map<String, List<Extent>> all) {
            this.all = all;
        }

        @Override
        public Map<String, List<Extent>> blockStatus(java.util.Collection<String> contexts, long offset, long length) {
            requests.add(new long[] {offset, length});
            Map<String, List<Extent>> out = new HashMap<>();
            for (String c : contexts) {
                List<Extent> list = new ArrayList<>();
                for (Extent e : all.get(c)) {
                    long s = Math.max(offset, e.offset());
                    long t = Math.min(offset + length, e.end());
                    if (s < t) {
                        list.add(new Extent(s, t - s, e.flags()));
                    }
                }
                out.put(c, list);
            }
            return out;
        }
    }

    @Test
    void windowedPlanEqualsWholePlanAndAsksOncePerWindow() {
        List<Extent> dirty = List.of(new Extent(0, 3 * M, 0), new Extent(3 * M, 10 * M, 1), new Extent(13 * M, 19 * M, 0));
        List<Extent> alloc = List.of(new Extent(0, 5 * M, 0), new Extent(5 * M, 6 * M, 3), new Extent(11 * M, 21 * M, 0));
        FixedExtents source = new FixedExtents(Map.of("qemu:dirty-bitmap:b", dirty, "base:allocation", alloc));
        ChunkRangeSource windowed = new ChunkRangeSource(source, 32 * M, "qemu:dirty-bitmap:b", "base:allocation",
                2 * M, 8 * M);
        List<ChunkRange> got = new ArrayList<>();
        windowed.forEachRemaining(got::add);
        assertThat(got).isEqualTo(ChunkPlanner.plan(0, 32 * M, dirty, alloc, 2 * M));
        assertThat(source.requests).extracting(r -> r[0]).containsExactly(0L, 8 * M, 16 * M, 24 * M);
    }

    @Test
    void lastWindowIsClampedToTheExportEnd() {
        FixedExtents source = new FixedExtents(Map.of("base:allocation", List.of(new Extent(0, 10 * M + 4096, 0))));
        ChunkRangeSource s = new ChunkRangeSource(source, 10 * M + 4096, null, "base:allocation", 4 * M, 8 * M);
        List<ChunkRange> got = new ArrayList<>();
        s.forEachRemaining(got::add);
        assertThat(got).extracting(ChunkRange::end).containsExactly(4 * M, 8 * M, 10 * M + 4096);
        assertThat(source.requests.get(1)).containsExactly(8 * M, 2 * M + 4096);
    }
}
