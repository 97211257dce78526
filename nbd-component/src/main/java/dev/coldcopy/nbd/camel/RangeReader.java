package dev.coldcopy.nbd.camel;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/** Asynchronous read of {@code dst.remaining()} bytes at an offset; {@code NbdClient::readAsync} is one. */
@FunctionalInterface
public interface RangeReader {
    CompletableFuture<Void> readAsync(long offset, ByteBuffer dst);
}
