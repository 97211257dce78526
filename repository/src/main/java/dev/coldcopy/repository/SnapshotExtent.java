package dev.coldcopy.repository;

/**
 * One range of a snapshot's map. A DATA extent reads {@code length} bytes from its chunk starting at
 * {@code chunkOffset}; a ZERO extent reads as zeroes and takes no chunk.
 */
public record SnapshotExtent(long offset, long length, Type type, ChunkAddress chunk, int chunkOffset, int chunkLength) {
    public enum Type { DATA, ZERO }

    public long end() {
        return offset + length;
    }

    public boolean isData() {
        return type == Type.DATA;
    }
}
