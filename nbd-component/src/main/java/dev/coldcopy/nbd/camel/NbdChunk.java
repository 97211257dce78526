package dev.coldcopy.nbd.camel;

/**
 * One chunk of an export as emitted by the consumer and the {@code chunks} operation.
 *
 * @param index 0-based position in the pass
 * @param offset where the chunk starts in the export
 * @param length its length in bytes (0 only for {@link NbdChunkKind#NONE})
 * @param kind DATA (bytes in {@code data}) or ZERO (nothing read, {@code data} null)
 * @param data the bytes for DATA, else null
 * @param last true only on the last chunk of the pass
 * @param exportSize the size of the export
 */
public record NbdChunk(long index, long offset, int length, NbdChunkKind kind, byte[] data, boolean last,
                       long exportSize) {

    public long end() {
        return offset + length;
    }

    @Override
    public String toString() {
        return "NbdChunk[#" + index + " " + kind + " " + offset + "+" + length + (last ? " last" : "") + "]";
    }
}
