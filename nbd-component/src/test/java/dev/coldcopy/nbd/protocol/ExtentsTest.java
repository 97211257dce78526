package dev.coldcopy.nbd.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ExtentsTest {

    @Test
    void intersectSplitsDirtyRangesByAllocation() {
        List<Extent> dirty = List.of(new Extent(0, 100, 0), new Extent(100, 200, 1), new Extent(300, 100, 0), new Extent(400, 50, 1));
        List<Extent> alloc = List.of(new Extent(0, 150, 0), new Extent(150, 100, 3), new Extent(250, 300, 0));
        assertThat(Extents.intersect(dirty, alloc)).containsExactly(
                new Extent(100, 50, 0), new Extent(150, 100, 3), new Extent(250, 50, 0), new Extent(400, 50, 0));
    }

    @Test
    void intersectTreatsUnknownAllocationAsDataAndMerges() {
        List<Extent> dirty = List.of(new Extent(0, 100, 1), new Extent(100, 100, 1));
        assertThat(Extents.intersect(dirty, List.of())).containsExactly(new Extent(0, 200, 0));
        assertThat(Extents.intersect(dirty, List.of(new Extent(50, 20, 2)))).containsExactly(
                new Extent(0, 50, 0), new Extent(50, 20, 2), new Extent(70, 130, 0));
    }

    @Test
    void mergeAndDataAndTotal() {
        List<Extent> l = List.of(new Extent(0, 10, 0), new Extent(10, 10, 0), new Extent(20, 5, 3), new Extent(25, 5, 1));
        assertThat(Extents.merge(l)).containsExactly(new Extent(0, 20, 0), new Extent(20, 5, 3), new Extent(25, 5, 1));
        assertThat(Extents.data(l)).containsExactly(new Extent(0, 20, 0), new Extent(25, 5, 1));
        assertThat(Extents.totalLength(l)).isEqualTo(30);
        assertThat(new Extent(5, 10, 0).end()).isEqualTo(15);
    }
}
