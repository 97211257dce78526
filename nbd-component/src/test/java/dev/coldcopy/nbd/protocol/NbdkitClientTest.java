package dev.coldcopy.nbd.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.coldcopy.nbd.testing.NbdkitServer;
import dev.coldcopy.testing.QemuImages;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client against nbdkit plugins and filters that make servers misbehave in controlled ways. */
class NbdkitClientTest {
    private static final int KiB = 1024;
    private static final int MiB = 1024 * KiB;

    @TempDir
    Path dir;

    /** The pattern plugin: every 8-byte big-endian word holds its own offset. */
    private static void assertPattern(long offset, ByteBuffer data) {
        ByteBuffer d = data.duplicate();
        for (int i = 0; i < d.remaining(); i++) {
            long at = offset + i;
            long word = at & ~7L;
            int shift = (int) (7 - (at & 7)) * 8;
            byte expected = (byte) (word >>> shift);
            if (d.get(d.position() + i) != expected) {
                throw new AssertionError("byte at offset " + at + " is " + d.get(d.position() + i) + ", expected " + expected);
            }
        }
    }

    @Test
    void patternReadsAtManyOffsetsOverTcp() throws IOException {
        long size = 1L << 40; // 1 TiB, costs nothing
        try (NbdkitServer server = NbdkitServer.builder("pattern").param("size=" + size).tcp().readOnly(true).start();
             NbdClient client = NbdClient.connect(server.uri(), NbdClientOptions.defaults())) {
            assertThat(server.uri().toString()).startsWith("nbd://127.0.0.1:");
            assertThat(client.size()).isEqualTo(size);
            Random rnd = new Random(1);
            List<CompletableFuture<Void>> futures = new ArrayList<>();
            List<ByteBuffer> bufs = new ArrayList<>();
            List<Long> offsets = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                long off = i == 0 ? size - 4096 : (long) (rnd.nextDouble() * (size - MiB));
                ByteBuffer b = i % 2 == 0 ? ByteBuffer.allocate(1 + rnd.nextInt(600 * KiB)) : ByteBuffer.allocateDirect(1 + rnd.nextInt(600 * KiB));
                if (i == 0) {
                    b = ByteBuffer.allocate(4096);
                }
                offsets.add(off);
                bufs.add(b);
                futures.add(client.readAsync(off, b));
            }
            CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).join();
            for (int i = 0; i < bufs.size(); i++) {
                assertPattern(offsets.get(i), bufs.get(i));
            }
        }
    }

    @Test
    void sparseRandomBlockStatusAndReads() throws IOException {
        long size = 8L << 30;
        try (NbdkitServer server = NbdkitServer.builder("sparse-random").param("size=" + size).param("seed=1234")
                .param("percent=1").readOnly(true).start();
             NbdClient client = NbdClient.connect(server.uri(), NbdClientOptions.builder().metaContexts("base:allocation").build())) {
            List<Extent> map = client.blockStatus("base:allocation", 0, size);
            assertThat(map.get(0).offset()).isZero();
            assertThat(map.get(map.size() - 1).end()).isEqualTo(size);
            for (int i = 1; i < map.size(); i++) {
                assertThat(map.get(i).offset()).isEqualTo(map.get(i - 1).end());
                assertThat(map.get(i).flags()).isNotEqualTo(map.get(i - 1).flags());
            }
            List<Extent> data = Extents.data(map);
            long dataBytes = Extents.totalLength(data);
            assertThat(dataBytes).isBetween(size / 200, size / 50); // ~1 %
            // data extents hold non-zero bytes, zero extents read as zero
            int checked = 0;
            for (Extent e : map) {
                if (checked++ > 40) {
                    break;
                }
                int len = (int) Math.min(e.length(), 256 * KiB);
                byte[] b = client.read(e.offset(), len);
                boolean allZero = true;
                for (byte x : b) {
                    allZero &= x == 0;
                }
                assertThat(allZero).as("extent %s", e).isEqualTo(e.isZero());
            }
        }
    }

    @Test
    void serverErrorNamesEioAndOffsetAndTheConnectionSurvives() throws IOException {
        Path trigger = dir.resolve("inject");
        try (NbdkitServer server = NbdkitServer.builder("pattern").param("size=64M").filter("error")
                .param("error-pread=EIO").param("error-pread-rate=100%").param("error-pread-file=" + trigger).start();
             NbdClient client = NbdClient.connect(server.uri(), NbdClientOptions.defaults())) {
            Files.writeString(trigger, "on");
            assertThatThrownBy(() -> client.read(1048576, 65536))
                    .isInstanceOf(NbdServerErrorException.class)
                    .hasMessageContaining("NBD_CMD_READ at offset 1048576 (65536 bytes) failed on the server: EIO")
                    .satisfies(e -> {
                        NbdServerErrorException s = (NbdServerErrorException) e;
                        assertThat(s.errorName()).isEqualTo("EIO");
                        assertThat(s.offset()).isEqualTo(1048576);
                    });
            // many failing requests in flight at once do not break the connection either
            List<CompletableFuture<Void>> failing = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                failing.add(client.readAsync(i * 65536L, ByteBuffer.allocate(65536)));
            }
            for (CompletableFuture<Void> f : failing) {
                assertThatThrownBy(f::join).isInstanceOf(CompletionException.class).hasCauseInstanceOf(NbdServerErrorException.class);
            }
            Files.delete(trigger);
            ByteBuffer ok = ByteBuffer.allocate(65536);
            client.read(2 * MiB, ok);
            assertPattern(2 * MiB, ok);
        }
    }

    @Test
    void delayedRepliesOutOfOrderWithManyInFlight() throws IOException {
        try (NbdkitServer server = NbdkitServer.builder("pattern").param("size=1G").filter("delay")
                .param("rdelay=50ms").option("--threads=64").readOnly(true).start();
             NbdClient client = NbdClient.connect(server.uri(), NbdClientOptions.defaults())) {
            Random rnd = new Random(3);
            List<CompletableFuture<Void>> futures = new ArrayList<>();
            List<ByteBuffer> bufs = new ArrayList<>();
            List<Long> offsets = new ArrayList<>();
            long start = System.nanoTime();
            for (int i = 0; i < 256; i++) {
                long off = (long) (rnd.nextDouble() * (1L << 30) - MiB);
                off = Math.max(0, off);
                ByteBuffer b = ByteBuffer.allocate(1 + rnd.nextInt(300 * KiB)); // 1 or 2 requests each
                offsets.add(off);
                bufs.add(b);
                futures.add(client.readAsync(off, b));
            }
            CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).join();
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            for (int i = 0; i < bufs.size(); i++) {
                assertPattern(offsets.get(i), bufs.get(i));
            }
            // ~330 requests of 50 ms each: only concurrency can finish them this fast
            assertThat(millis).isLessThan(330 * 50 / 4);
        }
    }

    @Test
    void obeysBlockSizePolicy() throws IOException {
        try (NbdkitServer server = NbdkitServer.builder("memory").param("size=16M").filter("blocksize-policy")
                .param("blocksize-minimum=4096").param("blocksize-preferred=65536").param("blocksize-maximum=65536")
                .param("blocksize-error-policy=error").start();
             NbdClient client = NbdClient.connect(server.uri(), NbdClientOptions.builder().metaContexts("base:allocation").build())) {
            assertThat(client.info().blockSize()).isEqualTo(new BlockSize(4096, 65536, 65536));
            byte[] data = new byte[3 * MiB];
            new Random(5).nextBytes(data);
            client.write(MiB, ByteBuffer.wrap(data));
            // unaligned and oversized reads are turned into aligned requests of at most 64 KiB
            byte[] back = client.read(MiB + 1234, 2 * MiB + 77);
            assertThat(QemuImages.sha256(back)).isEqualTo(QemuImages.sha256(java.util.Arrays.copyOfRange(data, 1234, 1234 + 2 * MiB + 77)));
            client.writeZeroes(2 * MiB, MiB);
            client.trim(0, 4096);
            client.flush();
            assertThat(client.read(2 * MiB, MiB)).containsOnly((byte) 0);
            List<Extent> map = client.blockStatus("base:allocation", 100, 16 * MiB);
            assertThat(map.get(0).offset()).isEqualTo(100);
            // an unaligned write becomes read-modify-write of the partial blocks (see UnalignedWriteTest)
            byte[] before = client.read(0, 8192);
            client.write(100, ByteBuffer.wrap(new byte[] {1, 2, 3}));
            byte[] after = client.read(0, 8192);
            assertThat(java.util.Arrays.copyOfRange(after, 100, 103)).containsExactly(1, 2, 3);
            assertThat(java.util.Arrays.copyOfRange(after, 103, 8192)).isEqualTo(java.util.Arrays.copyOfRange(before, 103, 8192));
        }
    }

    @Test
    void writesWriteZeroesTrimFlushReadBack() throws IOException {
        try (NbdkitServer server = NbdkitServer.builder("memory").param("size=32M").start();
             NbdClient client = NbdClient.connect(server.uri(), NbdClientOptions.builder().fastZero(true).build())) {
            assertThat(client.isReadOnly()).isFalse();
            byte[] data = new byte[5 * MiB + 512];
            new Random(9).nextBytes(data);
            client.writeAsync(MiB, ByteBuffer.wrap(data), true).join();
            assertThat(QemuImages.sha256(client.read(MiB, data.length))).isEqualTo(QemuImages.sha256(data));
            client.writeZeroes(2 * MiB, MiB);
            client.trim(4 * MiB, MiB);
            client.flush();
            byte[] expected = data.clone();
            java.util.Arrays.fill(expected, MiB, 2 * MiB, (byte) 0);
            java.util.Arrays.fill(expected, 3 * MiB, 4 * MiB, (byte) 0); // memory plugin trims to zero
            assertThat(QemuImages.sha256(client.read(MiB, data.length))).isEqualTo(QemuImages.sha256(expected));
        }
    }

    @Test
    void killedServerFailsEveryPendingReadPromptly() throws Exception {
        try (NbdkitServer server = NbdkitServer.builder("pattern").param("size=1G").filter("delay")
                .param("rdelay=3").option("--threads=64").readOnly(true).start()) {
            NbdClient client = NbdClient.connect(server.uri(), NbdClientOptions.defaults());
            try {
                List<CompletableFuture<Void>> futures = new ArrayList<>();
                for (int i = 0; i < 64; i++) {
                    futures.add(client.readAsync(i * 65536L, ByteBuffer.allocate(65536)));
                }
                Thread.sleep(200);
                server.kill();
                assertTimeoutPreemptively(Duration.ofSeconds(3), () -> {
                    for (CompletableFuture<Void> f : futures) {
                        assertThatThrownBy(f::join).hasCauseInstanceOf(NbdConnectionLostException.class);
                    }
                });
                // later requests fail at once too
                assertThatThrownBy(() -> client.read(0, 10)).isInstanceOf(NbdConnectionLostException.class);
            } finally {
                assertTimeoutPreemptively(Duration.ofSeconds(3), client::close);
            }
        }
    }

    @Test
    void ioTimeoutFailsTheRequest() throws Exception {
        try (NbdkitServer server = NbdkitServer.builder("pattern").param("size=1G").filter("delay")
                .param("rdelay=20").readOnly(true).start();
             NbdClient client = NbdClient.connect(server.uri(), NbdClientOptions.builder().ioTimeout(Duration.ofMillis(800)).build())) {
            assertTimeoutPreemptively(Duration.ofSeconds(5), () ->
                    assertThatThrownBy(() -> client.read(0, 512)).isInstanceOf(NbdTimeoutException.class)
                            .hasMessageContaining("no reply from the NBD server within 800 ms"));
        }
    }
}
