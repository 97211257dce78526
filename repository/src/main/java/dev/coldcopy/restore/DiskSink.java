package dev.coldcopy.restore;

import java.io.IOException;

/** Where restored ranges go. Implementations are thread-safe. */
interface DiskSink extends AutoCloseable {
    void write(long offset, byte[] data, int from, int length) throws IOException;

    void writeZeroes(long offset, long length) throws IOException;

    /** makes everything written durable */
    void flush() throws IOException;

    @Override
    void close() throws IOException;
}
