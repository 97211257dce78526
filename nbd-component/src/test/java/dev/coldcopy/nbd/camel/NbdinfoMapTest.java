package dev.coldcopy.nbd.camel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.nbd.protocol.Extent;
import java.util.List;
import org.junit.jupiter.api.Test;

class NbdinfoMapTest {

    @Test
    void mergesAdjacentEqualFlagsOnly() {
        List<Extent> in = List.of(new Extent(0, 4096, 0), new Extent(4096, 4096, 0), new Extent(8192, 4096, 3),
                new Extent(12288, 0, 0), new Extent(12288, 4096, 3), new Extent(16384, 4096, 0));
        assertThat(NbdinfoMap.merge(in)).containsExactly(new Extent(0, 8192, 0), new Extent(8192, 8192, 3),
                new Extent(16384, 4096, 0));
    }

    @Test
    void textMatchesNbdinfoLayout() {
        // lines as printed by nbdinfo 1.14 --map for the same extents
        assertThat(NbdinfoMap.toText("base:allocation", List.of(new Extent(0, 1048576, 0), new Extent(1048576, 7340032, 3))))
                .isEqualTo("         0     1048576    0  data\n"
                         + "   1048576     7340032    3  hole,zero\n");
        assertThat(NbdinfoMap.toText("qemu:dirty-bitmap:b1", List.of(new Extent(2097152, 131072, 1))))
                .isEqualTo("   2097152      131072    1  dirty\n");
    }

    @Test
    void descriptionsPerContext() {
        assertThat(NbdinfoMap.describe("base:allocation", 1)).isEqualTo("hole");
        assertThat(NbdinfoMap.describe("base:allocation", 2)).isEqualTo("zero");
        assertThat(NbdinfoMap.describe("qemu:dirty-bitmap:x", 0)).isEqualTo("clean");
        assertThat(NbdinfoMap.describe("qemu:allocation-depth", 0)).isEqualTo("absent");
        assertThat(NbdinfoMap.describe("qemu:allocation-depth", 1)).isEqualTo("local");
        assertThat(NbdinfoMap.describe("qemu:allocation-depth", 3)).isEqualTo("backing depth 3");
        assertThat(NbdinfoMap.describe("vendor:other", 1)).isNull();
    }

    @Test
    void jsonMatchesNbdinfoLayout() {
        assertThat(NbdinfoMap.toJson("qemu:dirty-bitmap:b1", List.of(new Extent(0, 2097152, 0), new Extent(2097152, 131072, 1))))
                .isEqualTo("[\n"
                        + "{ \"offset\": 0, \"length\": 2097152, \"type\": 0, \"description\": \"clean\"},\n"
                        + "{ \"offset\": 2097152, \"length\": 131072, \"type\": 1, \"description\": \"dirty\"}\n"
                        + "]\n");
    }
}
