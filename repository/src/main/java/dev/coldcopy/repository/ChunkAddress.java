package dev.coldcopy.repository;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * The address of a chunk: SHA-256 of its plaintext, or HMAC-SHA-256 under the repository's address key
 * when the repository is encrypted (so equal data under different keys never shares an address).
 */
public final class ChunkAddress implements Comparable<ChunkAddress> {
    public static final int LENGTH = 32;
    /** chunks live under chunks/ab/abcdef... so that no directory grows past a few thousand entries */
    public static final String PREFIX = "chunks/";
    private static final HexFormat HEX = HexFormat.of();

    private final byte[] bytes;
    private final int hash;

    private ChunkAddress(byte[] bytes) {
        this.bytes = bytes;
        this.hash = Arrays.hashCode(bytes);
    }

    public static ChunkAddress of(byte[] bytes) {
        if (bytes.length != LENGTH) {
            throw new IllegalArgumentException("a chunk address has " + LENGTH + " bytes, not " + bytes.length);
        }
        return new ChunkAddress(bytes.clone());
    }

    static ChunkAddress wrap(byte[] bytes) {
        return new ChunkAddress(bytes);
    }

    public static ChunkAddress parse(String hex) {
        if (hex.length() != LENGTH * 2) {
            throw new IllegalArgumentException("a chunk address is " + LENGTH * 2 + " hex digits: " + hex);
        }
        return new ChunkAddress(HEX.parseHex(hex));
    }

    /** @return the address if key is a chunk key (chunks/ab/abcd...), else null */
    public static ChunkAddress fromKey(String key) {
        int slash = key.lastIndexOf('/');
        String name = key.substring(slash + 1);
        if (!key.startsWith(PREFIX) || name.length() != LENGTH * 2) {
            return null;
        }
        try {
            return parse(name);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    public byte[] bytes() {
        return bytes.clone();
    }

    byte[] rawBytes() {
        return bytes;
    }

    public String hex() {
        return HEX.formatHex(bytes);
    }

    /** the object key of this chunk in every backend */
    public String key() {
        String hex = hex();
        return PREFIX + hex.substring(0, 2) + "/" + hex;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChunkAddress other && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public int compareTo(ChunkAddress o) {
        return Arrays.compareUnsigned(bytes, o.bytes);
    }

    @Override
    public String toString() {
        return hex();
    }
}
