package dev.coldcopy.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ChunkCodecTest {
    private static final byte[] SALT = new byte[32];

    private static byte[] text(int n) {
        StringBuilder sb = new StringBuilder();
        Random r = new Random(1);
        while (sb.length() < n) {
            sb.append("chunk ").append(r.nextInt(100)).append(' ');
        }
        return sb.substring(0, n).getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] key(int seed) {
        byte[] k = new byte[32];
        new Random(seed).nextBytes(k);
        return k;
    }

    @Test
    void plainChunkRoundTripsCompressedAndAddressIsSha256() throws Exception {
        ChunkCodec codec = new ChunkCodec(3, null);
        byte[] data = text(1 << 20);
        ChunkAddress a = codec.address(data, 0, data.length);
        assertThat(a.hex()).isEqualTo(java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(data)));
        byte[] stored = codec.encodeChunk(a, data, 0, data.length);
        assertThat(stored.length).isLessThan(data.length / 2);
        assertThat(stored[5] & ChunkCodec.FLAG_ZSTD).isEqualTo(ChunkCodec.FLAG_ZSTD);
        assertThat(codec.decodeChunk(a, stored)).isEqualTo(data);
    }

    @Test
    void chunksEncodedOneAfterAnotherOnOneThreadStayIntact() throws Exception {
        // the compression buffer is reused per thread: what encode returns must not share it
        for (RepositoryKeys keys : new RepositoryKeys[] {null, RepositoryKeys.derive(key(4), SALT)}) {
            ChunkCodec codec = new ChunkCodec(3, keys);
            byte[] big = text(4 << 20);
            byte[] small = new byte[300 * 1024];
            byte[] random = new byte[512 * 1024];
            new Random(3).nextBytes(random);
            byte[][] data = {big, small, random, text(70_000)};
            byte[][] stored = new byte[data.length][];
            ChunkAddress[] addresses = new ChunkAddress[data.length];
            for (int i = 0; i < data.length; i++) {
                addresses[i] = codec.address(data[i], 0, data[i].length);
                stored[i] = codec.encodeChunk(addresses[i], data[i], 0, data[i].length);
            }
            for (int i = 0; i < data.length; i++) {
                assertThat(codec.decodeChunk(addresses[i], stored[i])).as("chunk %d", i).isEqualTo(data[i]);
            }
        }
    }

    @Test
    void randomDataIsStoredRaw() throws Exception {
        ChunkCodec codec = new ChunkCodec(3, null);
        byte[] data = new byte[256 * 1024];
        new Random(2).nextBytes(data);
        ChunkAddress a = codec.address(data, 0, data.length);
        byte[] stored = codec.encodeChunk(a, data, 0, data.length);
        assertThat(stored[5] & ChunkCodec.FLAG_ZSTD).isZero();
        assertThat(stored.length).isEqualTo(data.length + ChunkCodec.HEADER_LENGTH + ChunkCodec.TRAILER_LENGTH);
        assertThat(codec.decodeChunk(a, stored)).isEqualTo(data);
    }

    @Test
    void encryptedChunkRoundTripsAndAddressDependsOnKey() throws Exception {
        ChunkCodec one = new ChunkCodec(3, RepositoryKeys.derive(key(1), SALT));
        ChunkCodec two = new ChunkCodec(3, RepositoryKeys.derive(key(2), SALT));
        byte[] data = text(100_000);
        ChunkAddress a1 = one.address(data, 0, data.length);
        assertThat(a1).isNotEqualTo(two.address(data, 0, data.length));
        assertThat(a1).isNotEqualTo(new ChunkCodec(3, null).address(data, 0, data.length));
        byte[] stored = one.encodeChunk(a1, data, 0, data.length);
        assertThat(new String(stored, StandardCharsets.US_ASCII)).doesNotContain("chunk 1");
        assertThat(one.decodeChunk(a1, stored)).isEqualTo(data);
        assertThatThrownBy(() -> two.decodeChunk(a1, stored)).isInstanceOf(ChunkCorruptException.class).hasMessageContaining("does not decrypt");
    }

    @Test
    void everyFlippedByteIsDetected() throws Exception {
        ChunkCodec codec = new ChunkCodec(3, RepositoryKeys.derive(key(3), SALT));
        byte[] data = text(5000);
        ChunkAddress a = codec.address(data, 0, data.length);
        byte[] stored = codec.encodeChunk(a, data, 0, data.length);
        for (int i = 0; i < stored.length; i += 7) {
            byte[] bad = stored.clone();
            bad[i] ^= 0x10;
            assertThatThrownBy(() -> codec.decodeChunk(a, bad)).isInstanceOf(ChunkCorruptException.class).hasMessageContaining(a.hex());
        }
    }

    @Test
    void chunkUnderTheWrongAddressIsRejected() throws Exception {
        ChunkCodec codec = new ChunkCodec(3, null);
        byte[] data = text(5000);
        byte[] other = text(6000);
        ChunkAddress wrong = codec.address(other, 0, other.length);
        byte[] stored = codec.encodeChunk(wrong, data, 0, data.length);
        assertThatThrownBy(() -> codec.decodeChunk(wrong, stored)).hasMessageContaining("does not hash to the chunk's address");
    }
}
