package dev.coldcopy.repository.vm;

import dev.coldcopy.repository.ChunkAddress;
import java.util.Objects;

/**
 * One piece of a host file: a chunk of the repository (the same kind of chunk disk data is stored in)
 * and how many bytes of the file it holds.
 */
public record FileChunk(ChunkAddress address, int length) {
    public FileChunk {
        Objects.requireNonNull(address, "chunk address");
        if (length <= 0) {
            throw new IllegalArgumentException("a file chunk holds at least one byte, not " + length);
        }
    }
}
