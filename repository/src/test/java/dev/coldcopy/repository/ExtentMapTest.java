package dev.coldcopy.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ExtentMapTest {
    private static final int DISK = 4096;

    private static ChunkAddress addr(int n) {
        byte[] b = new byte[32];
        b[0] = (byte) n;
        b[1] = (byte) (n >> 8);
        return ChunkAddress.of(b);
    }

    /** what every byte of a disk reads as under a map: -1 hole, -2 zero, else chunk*10000 + offset in chunk */
    private static int[] render(ExtentMap m) {
        int[] disk = new int[DISK];
        java.util.Arrays.fill(disk, -1);
        for (SnapshotExtent e : m.extents()) {
            for (long i = e.offset(); i < e.end(); i++) {
                disk[(int) i] = e.isData() ? (e.chunk().bytes()[0] & 0xff | (e.chunk().bytes()[1] & 0xff) << 8) * 10000 + e.chunkOffset() + (int) (i - e.offset()) : -2;
            }
        }
        return disk;
    }

    private static ExtentMap randomMap(Random r, int[] expected, int chunkBase) {
        ExtentMap.Builder b = new ExtentMap.Builder();
        long pos = r.nextInt(50);
        int c = chunkBase;
        while (pos < DISK) {
            int len = 1 + r.nextInt(200);
            if (pos + len > DISK) {
                len = (int) (DISK - pos);
            }
            if (r.nextInt(4) == 0) {
                b.addZero(pos, len);
                for (int i = 0; i < len; i++) {
                    expected[(int) pos + i] = -2;
                }
            } else {
                int chunkLen = len + r.nextInt(100);
                int off = r.nextInt(chunkLen - len + 1);
                b.addData(pos, len, addr(c), chunkLen, off);
                for (int i = 0; i < len; i++) {
                    expected[(int) pos + i] = c * 10000 + off + i;
                }
                c++;
            }
            pos += len + r.nextInt(3) * r.nextInt(100);
        }
        return b.build();
    }

    @Test
    void overlayMatchesByteByByteModel() {
        Random r = new Random(42);
        for (int round = 0; round < 300; round++) {
            int[] base = new int[DISK];
            java.util.Arrays.fill(base, -1);
            ExtentMap bm = randomMap(r, base, 1);
            int[] top = new int[DISK];
            java.util.Arrays.fill(top, -1);
            ExtentMap tm = randomMap(r, top, 3000 / 1 + 1);
            int[] want = new int[DISK];
            for (int i = 0; i < DISK; i++) {
                want[i] = top[i] != -1 ? top[i] : base[i];
            }
            ExtentMap result = bm.overlay(tm);
            assertThat(render(bm)).isEqualTo(base);
            assertThat(render(result)).isEqualTo(want);
            // the chunk table holds exactly the referenced chunks
            long referenced = result.extents().stream().filter(SnapshotExtent::isData).map(SnapshotExtent::chunk).distinct().count();
            assertThat(result.chunks()).hasSize((int) referenced);
        }
    }

    @Test
    void neighboursInOneChunkMergeAndOverlapsAreRejected() {
        ExtentMap m = new ExtentMap.Builder().addData(100, 50, addr(1), 200, 0).addData(150, 50, addr(1), 200, 50)
                .addZero(0, 10).addZero(10, 20).build();
        assertThat(m.size()).isEqualTo(2);
        assertThat(m.get(1).length()).isEqualTo(100);
        assertThatThrownBy(() -> new ExtentMap.Builder().addZero(0, 10).addZero(5, 10).build()).hasMessageContaining("overlap");
    }
}
