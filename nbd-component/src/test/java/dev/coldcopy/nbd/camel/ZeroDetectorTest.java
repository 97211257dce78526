package dev.coldcopy.nbd.camel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class ZeroDetectorTest {

    static final int K = 1024;

    @Test
    void isZeroFindsASingleNonZeroByteAnywhere() {
        byte[] data = new byte[200 * K];
        assertThat(ZeroDetector.isZero(data)).isTrue();
        data[199 * K + 17] = 1;
        assertThat(ZeroDetector.isZero(data)).isFalse();
        assertThat(ZeroDetector.isZero(data, 0, 199 * K)).isTrue();
    }

    @Test
    void longZeroRunsSplitShortOnesStayData() {
        byte[] data = new byte[256 * K];
        data[0] = 1;                 // block 0 data
        data[64 * K + 5] = 2;        // data block at 64K; zero run [68K, 192K) is long
        data[192 * K] = 3;           // data from 192K; then a short zero run [200K, 208K) stays data
        data[208 * K] = 4;
        List<int[]> runs = ZeroDetector.split(data, 0, 64 * K);
        assertThat(runs).extracting(r -> r[0] + "-" + r[1] + ":" + r[2])
                .containsExactly("0-69632:0", "69632-196608:1", "196608-262144:0");
    }

    @Test
    void blocksAreAlignedToTheExportNotTheBuffer() {
        // buffer starts 512 bytes before a 4K boundary: first "block" is 512 bytes long
        byte[] data = new byte[512 + 128 * K];
        data[0] = 9;
        List<int[]> runs = ZeroDetector.split(data, 4096 - 512, 64 * K);
        assertThat(runs).extracting(r -> r[0] + "-" + r[1] + ":" + r[2])
                .containsExactly("0-512:0", "512-" + data.length + ":1");
    }

    @Test
    void iteratorSplitsAChunkWithALongZeroRunIntoPieces() {
        List<ChunkRange> plan = List.of(new ChunkRange(0, 256 * K, NbdChunkKind.DATA),
                new ChunkRange(256 * K, 4 * K, NbdChunkKind.DATA));
        NbdChunkIterator it = new NbdChunkIterator(plan.iterator(), (offset, dst) -> {
            if (offset == 0) {
                dst.put(0, (byte) 1);                 // data in the first 4K only, zeroes after
                dst.put(250 * K, (byte) 1);           // and data again at the end
            } else {
                dst.put(0, (byte) 7);
            }
            return CompletableFuture.completedFuture(null);
        }, 260 * K, 2, true, false, null);
        List<NbdChunk> got = new ArrayList<>();
        it.forEachRemaining(got::add);
        assertThat(got).extracting(c -> c.offset() + "+" + c.length() + ":" + c.kind() + (c.last() ? ":last" : ""))
                .containsExactly("0+4096:DATA", "4096+249856:ZERO", "253952+8192:DATA", "262144+4096:DATA:last");
        assertThat(got.get(2).data()).hasSize(8192);
        assertThat(got.get(2).data()[250 * K - 253952]).isEqualTo((byte) 1);
        assertThat(got).extracting(NbdChunk::index).containsExactly(0L, 1L, 2L, 3L);
        assertThat(it.dataBytes() + it.zeroBytes()).isEqualTo(260 * K);
    }
}
