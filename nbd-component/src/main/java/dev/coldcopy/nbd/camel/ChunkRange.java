package dev.coldcopy.nbd.camel;

/**
 * One planned piece of an export: {@code length} bytes at {@code offset}, to be read ({@link NbdChunkKind#DATA})
 * or known to read as zeroes ({@link NbdChunkKind#ZERO}). Never crosses a multiple of the chunk size.
 */
public record ChunkRange(long offset, int length, NbdChunkKind kind) {

    public ChunkRange {
        if (offset < 0 || length <= 0) {
            throw new IllegalArgumentException("bad chunk range: offset " + offset + ", length " + length);
        }
    }

    public long end() {
        return offset + length;
    }
}
