package dev.coldcopy.restore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Positional writes into a raw image file (sparse where nothing is written); flush() is an fsync only with {@code sync}. */
final class RawFileSink implements DiskSink {
    private static final int ZERO_BLOCK = 1024 * 1024;
    private final FileChannel channel;
    private final boolean sync;

    RawFileSink(Path file, boolean sync) throws IOException {
        this.channel = FileChannel.open(file, StandardOpenOption.WRITE);
        this.sync = sync;
    }

    @Override
    public void write(long offset, byte[] data, int from, int length) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(data, from, length);
        long pos = offset;
        while (b.hasRemaining()) {
            pos += channel.write(b, pos);
        }
    }

    @Override
    public void writeZeroes(long offset, long length) throws IOException {
        byte[] zero = new byte[(int) Math.min(ZERO_BLOCK, length)];
        long done = 0;
        while (done < length) {
            int n = (int) Math.min(zero.length, length - done);
            write(offset + done, zero, 0, n);
            done += n;
        }
    }

    @Override
    public void flush() throws IOException {
        if (sync) {
            channel.force(false);
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
