package dev.coldcopy.nbd.camel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** Pure logic of the read-ahead iterator, with an in-memory reader standing in for the NBD client. */
class NbdChunkIteratorTest {

    /** Completes reads only when asked, so the test sees how many are outstanding. */
    static final class ManualReader implements RangeReader {
        final List<CompletableFuture<Void>> outstanding = new ArrayList<>();
        byte fill = 7;

        @Override
        public CompletableFuture<Void> readAsync(long offset, ByteBuffer dst) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            byte value = offset == 4096 ? 0 : fill;   // the second 4K block reads as zeroes
            f.thenRun(() -> {
                while (dst.hasRemaining()) {
                    dst.put(value);
                }
            });
            outstanding.add(f);
            return f;
        }
    }

    private static List<ChunkRange> ranges(int n) {
        List<ChunkRange> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new ChunkRange(i * 4096L, 4096, i % 5 == 4 ? NbdChunkKind.ZERO : NbdChunkKind.DATA));
        }
        return out;
    }

    @Test
    void readsAheadAtMostTheBoundAndMarksTheLastChunk() {
        ManualReader reader = new ManualReader();
        AtomicBoolean closed = new AtomicBoolean();
        NbdChunkIterator it = new NbdChunkIterator(ranges(50).iterator(), reader, 50 * 4096L, 3, true, false, () -> closed.set(true));
        List<NbdChunk> got = new ArrayList<>();
        while (it.hasNext()) {
            // complete every outstanding read before taking the next: the iterator must not have started more than 3
            assertThat(reader.outstanding.stream().filter(f -> !f.isDone()).count()).isLessThanOrEqualTo(3);
            reader.outstanding.forEach(f -> f.complete(null));
            got.add(it.next());
        }
        assertThat(it.maxPending()).isEqualTo(3);
        assertThat(got).hasSize(50);
        assertThat(got).extracting(NbdChunk::index).containsExactlyElementsOf(
                java.util.stream.LongStream.range(0, 50).boxed().toList());
        assertThat(got).filteredOn(NbdChunk::last).extracting(NbdChunk::index).containsExactly(49L);
        // block 1 read as zeroes: reported as ZERO with no body; every 5th was planned ZERO and never read
        assertThat(got.get(1).kind()).isEqualTo(NbdChunkKind.ZERO);
        assertThat(got.get(1).data()).isNull();
        assertThat(got.get(4).kind()).isEqualTo(NbdChunkKind.ZERO);
        assertThat(reader.outstanding).hasSize(40);
        assertThat(got.get(0).data()).containsOnly((byte) 7).hasSize(4096);
        assertThat(it.dataBytes()).isEqualTo(39 * 4096L);
        assertThat(it.zeroBytes()).isEqualTo(11 * 4096L);
        assertThat(closed).as("exhausted iterator closes its connection").isTrue();
    }

    @Test
    void zeroDetectionCanBeSwitchedOff() {
        NbdChunkIterator it = new NbdChunkIterator(ranges(2).iterator(),
                (o, dst) -> CompletableFuture.completedFuture(null), 8192, 2, false, false, null);
        assertThat(it.next().kind()).isEqualTo(NbdChunkKind.DATA);
        NbdChunk second = it.next();
        assertThat(second.kind()).isEqualTo(NbdChunkKind.DATA);
        assertThat(second.data()).hasSize(4096).containsOnly((byte) 0);
        assertThat(second.last()).isTrue();
        assertThat(it.hasNext()).isFalse();
    }

    @Test
    void emptyPlanGivesOneNoneMarkerWhenAsked() {
        AtomicBoolean closed = new AtomicBoolean();
        NbdChunkIterator it = new NbdChunkIterator(List.<ChunkRange>of().iterator(),
                (o, dst) -> CompletableFuture.completedFuture(null), 1234, 2, true, true, () -> closed.set(true));
        NbdChunk marker = it.next();
        assertThat(marker.kind()).isEqualTo(NbdChunkKind.NONE);
        assertThat(marker.last()).isTrue();
        assertThat(marker.exportSize()).isEqualTo(1234);
        assertThat(it.hasNext()).isFalse();
        assertThat(closed).isTrue();

        NbdChunkIterator plain = new NbdChunkIterator(List.<ChunkRange>of().iterator(),
                (o, dst) -> CompletableFuture.completedFuture(null), 1234, 2, true, false, null);
        assertThat(plain.hasNext()).isFalse();
    }

    @Test
    void readFailureSurfacesWithItsReasonAndClosesTheConnection() {
        AtomicBoolean closed = new AtomicBoolean();
        NbdChunkIterator it = new NbdChunkIterator(ranges(4).iterator(), (o, dst) -> o == 8192
                ? CompletableFuture.failedFuture(new IOException("NBD_CMD_READ at offset 8192 (4096 bytes) failed on the server: EIO"))
                : CompletableFuture.completedFuture(null), 4 * 4096L, 2, false, false, () -> closed.set(true));
        it.next();
        it.next();
        assertThatThrownBy(it::next).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("offset 8192").hasMessageContaining("EIO");
        assertThat(closed).isTrue();
        assertThat(it.hasNext()).isFalse();
    }

    @Test
    void closingEarlyClosesTheConnection() {
        AtomicBoolean closed = new AtomicBoolean();
        NbdChunkIterator it = new NbdChunkIterator(ranges(10).iterator(),
                (o, dst) -> CompletableFuture.completedFuture(null), 10 * 4096L, 2, false, false, () -> closed.set(true));
        it.next();
        it.close();
        assertThat(closed).isTrue();
        assertThat(it.hasNext()).isFalse();
    }
}
