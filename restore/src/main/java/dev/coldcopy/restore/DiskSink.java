package dev.coldcopy.restore;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/** Where restored ranges go. Implementations are thread-safe. */
interface DiskSink extends AutoCloseable {
    void write(long offset, byte[] data, int from, int length) throws IOException;

    /**
     * Starts a write; data must stay unchanged until the future completes. The default writes now.
     */
    default CompletableFuture<Void> writeAsync(long offset, byte[] data, int from, int length) {
        try {
            write(offset, data, from, length);
            return CompletableFuture.completedFuture(null);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    void writeZeroes(long offset, long length) throws IOException;

    /** makes everything written durable */
    void flush() throws IOException;

    @Override
    void close() throws IOException;
}
