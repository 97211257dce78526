package dev.coldcopy.repository;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Optional;
import java.util.zip.CRC32C;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The stored form of a chunk (and of manifests): a 16-byte header, the payload, a CRC-32C trailer.
 *
 * <pre>
 * offset size
 *  0     4   magic "CCK1"
 *  4     1   format version (1)
 *  5     1   flags: bit 0 FLAG_ZSTD (payload is zstd-compressed), bit 1 FLAG_AES_GCM (payload is encrypted)
 *  6     2   reserved, zero
 *  8     4   plaintext length
 * 12     4   payload length
 * 16     n   payload; when encrypted: 12-byte nonce, ciphertext, 16-byte GCM tag
 * 16+n   4   CRC-32C of header and payload: damage is detected before decryption or decompression
 * </pre>
 *
 * With encryption, the GCM additional data is the header plus the chunk's address, so a stored chunk
 * cannot be swapped for another one or have its flags changed unnoticed. Thread-safe.
 */
public final class ChunkCodec {
    public static final int MAGIC = 0x43434B31; // "CCK1"
    public static final int VERSION = 1;
    public static final int FLAG_ZSTD = 1;
    public static final int FLAG_AES_GCM = 2;
    public static final int HEADER_LENGTH = 16;
    public static final int TRAILER_LENGTH = 4;
    private static final int NONCE_LENGTH = 12;
    private static final int TAG_BITS = 128;
    private static final int SAMPLE = 64 * 1024;

    private final int zstdLevel;
    private final RepositoryKeys keys; // null: not encrypted
    private final SecretKeySpec aesKey;
    private final SecureRandom random = new SecureRandom();
    private final ThreadLocal<MessageDigest> sha256 = ThreadLocal.withInitial(ChunkCodec::newSha256);
    private final ThreadLocal<Mac> addressMac;
    private final ThreadLocal<ZstdCompressCtx> zstd;
    /**
     * Per-thread zstd output, reused: a fresh chunk-sized array per chunk is a humongous allocation
     * for G1 (one GC per few chunks on a backup of many small chunks); only the exact result is copied out.
     */
    private final ThreadLocal<byte[][]> compressBuffer = ThreadLocal.withInitial(() -> new byte[1][]);

    /**
     * @param zstdLevel zstd level; 0 stores chunks uncompressed
     * @param keys      null for a repository without encryption
     */
    public ChunkCodec(int zstdLevel, RepositoryKeys keys) {
        this.zstdLevel = zstdLevel;
        this.keys = keys;
        this.aesKey = keys == null ? null : new SecretKeySpec(keys.encryptionKey(), "AES");
        this.addressMac = keys == null ? null : ThreadLocal.withInitial(() -> newMac(keys.addressKey()));
        this.zstd = ThreadLocal.withInitial(() -> {
            ZstdCompressCtx ctx = new ZstdCompressCtx();
            ctx.setLevel(zstdLevel);
            return ctx;
        });
    }

    public boolean encrypted() {
        return keys != null;
    }

    /** The address of plaintext: SHA-256, or HMAC-SHA-256 under the address key when encrypted. */
    public ChunkAddress address(byte[] data, int offset, int length) {
        if (keys == null) {
            MessageDigest md = sha256.get();
            md.update(data, offset, length);
            return ChunkAddress.wrap(md.digest());
        }
        Mac mac = addressMac.get();
        mac.update(data, offset, length);
        return ChunkAddress.wrap(mac.doFinal());
    }

    /** Encodes a chunk's plaintext (whose address was computed with {@link #address}). */
    public byte[] encodeChunk(ChunkAddress address, byte[] data, int offset, int length) {
        return encode(address.rawBytes(), data, offset, length, true);
    }

    /**
     * Encodes a named object (manifest, ...): like a chunk, bound to its name instead of an address.
     * Not compressed: a manifest is mostly chunk addresses, which do not compress, and it must save fast.
     */
    public byte[] encodeObject(String name, byte[] data) {
        return encode(nameBinding(name), data, 0, data.length, false);
    }

    /** Checks, decrypts and decompresses a chunk and proves its content hashes to its address. */
    public byte[] decodeChunk(ChunkAddress address, byte[] stored) throws ChunkCorruptException {
        String name = "chunk " + address.hex();
        byte[] plain = decode(name, address.rawBytes(), stored);
        if (!address.equals(address(plain, 0, plain.length))) {
            throw new ChunkCorruptException(name, "content does not hash to the chunk's address");
        }
        return plain;
    }

    public byte[] decodeObject(String name, byte[] stored) throws ChunkCorruptException {
        return decode(name, nameBinding(name), stored);
    }

    /**
     * What a backup can check of a stored chunk before reusing it, from its first {@link #HEADER_LENGTH}
     * bytes and its stored length, without reading the rest: the chunk format states its own length (header
     * + payload length + trailer), so a truncated, extended or emptied object shows; the header must also
     * say it holds {@code plainLength} bytes, encrypted as this repository is, and an uncompressed payload
     * must be exactly that long. A damaged byte inside the payload is left to the CRC on read and to verify.
     *
     * @return why the stored object cannot be this chunk, or empty if it looks right
     */
    public Optional<String> checkStoredHead(byte[] start, long storedLength, int plainLength) {
        if (start.length < HEADER_LENGTH || storedLength < HEADER_LENGTH + TRAILER_LENGTH) {
            return Optional.of("truncated (" + storedLength + " bytes)");
        }
        ByteBuffer header = ByteBuffer.wrap(start, 0, HEADER_LENGTH);
        if (header.getInt() != MAGIC) {
            return Optional.of("not a coldcopy chunk (bad magic)");
        }
        int version = header.get() & 0xff;
        int flags = header.get() & 0xff;
        header.getShort();
        int statedPlain = header.getInt();
        long payloadLength = header.getInt() & 0xffffffffL;
        if (version != VERSION) {
            return Optional.of("unsupported chunk format version " + version);
        }
        if (((flags & FLAG_AES_GCM) != 0) != (keys != null)) {
            return Optional.of(keys != null ? "is not encrypted but the repository is" : "is encrypted but the repository is not");
        }
        if (statedPlain != plainLength) {
            return Optional.of("header says " + statedPlain + " plaintext bytes, the data has " + plainLength);
        }
        if (HEADER_LENGTH + payloadLength + TRAILER_LENGTH != storedLength) {
            return Optional.of("stored length " + storedLength + " does not match its header ("
                    + (HEADER_LENGTH + payloadLength + TRAILER_LENGTH) + ")");
        }
        long rawPayload = keys == null ? plainLength : NONCE_LENGTH + (long) plainLength + TAG_BITS / 8;
        if ((flags & FLAG_ZSTD) == 0 && payloadLength != rawPayload) {
            return Optional.of("uncompressed payload of " + payloadLength + " bytes for " + plainLength + " plaintext bytes");
        }
        return Optional.empty();
    }

    private byte[] encode(byte[] binding, byte[] data, int offset, int length, boolean compress) {
        int flags = 0;
        byte[] body = null;
        int bodyLength = length;
        if (compress && zstdLevel > 0 && length > 0 && !looksIncompressible(data, offset, length)) {
            byte[] compressed = compressBuffer((int) Zstd.compressBound(length));
            int n = zstd.get().compressByteArray(compressed, 0, (int) Zstd.compressBound(length), data, offset, length);
            // store raw when compression does not help: random data, already compressed data
            if (n < length - length / 64) {
                body = compressed;
                bodyLength = n;
                flags |= FLAG_ZSTD;
            }
        }
        if (body == null) {
            body = data;
        } else {
            offset = 0;
        }
        int payloadLength = keys == null ? bodyLength : NONCE_LENGTH + bodyLength + TAG_BITS / 8;
        if (keys != null) {
            flags |= FLAG_AES_GCM;
        }
        byte[] out = new byte[HEADER_LENGTH + payloadLength + TRAILER_LENGTH];
        ByteBuffer header = ByteBuffer.wrap(out);
        header.putInt(MAGIC).put((byte) VERSION).put((byte) flags).putShort((short) 0).putInt(length).putInt(payloadLength);
        if (keys == null) {
            System.arraycopy(body, offset, out, HEADER_LENGTH, bodyLength);
        } else {
            byte[] nonce = new byte[NONCE_LENGTH];
            random.nextBytes(nonce);
            System.arraycopy(nonce, 0, out, HEADER_LENGTH, NONCE_LENGTH);
            try {
                Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
                cipher.init(Cipher.ENCRYPT_MODE, aesKey, new GCMParameterSpec(TAG_BITS, nonce));
                cipher.updateAAD(out, 0, HEADER_LENGTH);
                cipher.updateAAD(binding);
                cipher.doFinal(body, offset, bodyLength, out, HEADER_LENGTH + NONCE_LENGTH);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES-256-GCM encryption failed: " + e.getMessage(), e);
            }
        }
        CRC32C crc = new CRC32C();
        crc.update(out, 0, HEADER_LENGTH + payloadLength);
        ByteBuffer.wrap(out, HEADER_LENGTH + payloadLength, TRAILER_LENGTH).putInt((int) crc.getValue());
        return out;
    }

    /**
     * Random or already compressed data would cost a full zstd pass for nothing: compress two 64 KiB
     * samples (start and middle) first and store the chunk raw when neither shrinks by 1/32.
     */
    private boolean looksIncompressible(byte[] data, int offset, int length) {
        if (length < 4 * SAMPLE) {
            return false;
        }
        ZstdCompressCtx ctx = zstd.get();
        int bound = (int) Zstd.compressBound(SAMPLE);
        byte[] out = compressBuffer(bound);
        for (int at : new int[] {offset, offset + length / 2}) {
            int n = ctx.compressByteArray(out, 0, bound, data, at, SAMPLE);
            if (n < SAMPLE - SAMPLE / 32) {
                return false;
            }
        }
        return true;
    }

    /** this thread's compression output buffer, at least size bytes long */
    private byte[] compressBuffer(int size) {
        byte[][] holder = compressBuffer.get();
        if (holder[0] == null || holder[0].length < size) {
            holder[0] = new byte[size];
        }
        return holder[0];
    }

    private byte[] decode(String name, byte[] binding, byte[] stored) throws ChunkCorruptException {
        if (stored.length < HEADER_LENGTH + TRAILER_LENGTH) {
            throw new ChunkCorruptException(name, "truncated (" + stored.length + " bytes)");
        }
        ByteBuffer header = ByteBuffer.wrap(stored);
        if (header.getInt() != MAGIC) {
            throw new ChunkCorruptException(name, "not a coldcopy chunk (bad magic)");
        }
        int version = header.get() & 0xff;
        int flags = header.get() & 0xff;
        header.getShort();
        int plainLength = header.getInt();
        int payloadLength = header.getInt();
        if (payloadLength < 0 || HEADER_LENGTH + (long) payloadLength + TRAILER_LENGTH != stored.length) {
            throw new ChunkCorruptException(name, "length " + stored.length + " does not match its header");
        }
        CRC32C crc = new CRC32C();
        crc.update(stored, 0, HEADER_LENGTH + payloadLength);
        int expected = ByteBuffer.wrap(stored, HEADER_LENGTH + payloadLength, TRAILER_LENGTH).getInt();
        if ((int) crc.getValue() != expected) {
            throw new ChunkCorruptException(name, "checksum mismatch (the stored bytes are damaged)");
        }
        if (version != VERSION) {
            throw new ChunkCorruptException(name, "unsupported chunk format version " + version);
        }
        boolean isEncrypted = (flags & FLAG_AES_GCM) != 0;
        if (isEncrypted != (keys != null)) {
            throw new ChunkCorruptException(name, isEncrypted ? "is encrypted but no key was given" : "is not encrypted but the repository is");
        }
        byte[] body;
        int bodyOffset;
        int bodyLength;
        if (isEncrypted) {
            try {
                Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
                cipher.init(Cipher.DECRYPT_MODE, aesKey, new GCMParameterSpec(TAG_BITS, stored, HEADER_LENGTH, NONCE_LENGTH));
                cipher.updateAAD(stored, 0, HEADER_LENGTH);
                cipher.updateAAD(binding);
                body = cipher.doFinal(stored, HEADER_LENGTH + NONCE_LENGTH, payloadLength - NONCE_LENGTH);
            } catch (AEADBadTagException e) {
                throw new ChunkCorruptException(name, "does not decrypt (authentication failed: wrong key or damaged data)");
            } catch (GeneralSecurityException e) {
                throw new ChunkCorruptException(name, "does not decrypt: " + e.getMessage());
            }
            bodyOffset = 0;
            bodyLength = body.length;
        } else {
            body = stored;
            bodyOffset = HEADER_LENGTH;
            bodyLength = payloadLength;
        }
        if ((flags & FLAG_ZSTD) == 0) {
            if (bodyLength != plainLength) {
                throw new ChunkCorruptException(name, "stored length " + bodyLength + " differs from the plaintext length " + plainLength);
            }
            return bodyOffset == 0 && body.length == bodyLength ? body : slice(body, bodyOffset, bodyLength);
        }
        byte[] plain = new byte[plainLength];
        long n;
        try {
            n = Zstd.decompressByteArray(plain, 0, plainLength, body, bodyOffset, bodyLength);
        } catch (ZstdException e) {
            throw new ChunkCorruptException(name, "does not decompress: " + e.getMessage());
        }
        if (Zstd.isError(n)) {
            throw new ChunkCorruptException(name, "does not decompress: " + Zstd.getErrorName(n));
        }
        if (n != plainLength) {
            throw new ChunkCorruptException(name, "decompressed to " + n + " bytes, expected " + plainLength);
        }
        return plain;
    }

    private static byte[] nameBinding(String name) {
        return newSha256().digest(name.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] slice(byte[] data, int offset, int length) {
        if (offset == 0 && length == data.length) {
            return data;
        }
        byte[] copy = new byte[length];
        System.arraycopy(data, offset, copy, 0, length);
        return copy;
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Mac newMac(byte[] key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
