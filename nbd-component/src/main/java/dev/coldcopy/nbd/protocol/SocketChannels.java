package dev.coldcopy.nbd.protocol;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * Whole-buffer reads and writes on a blocking {@link SocketChannel}, which may move fewer bytes than asked
 * per call. Both ends of an NBD connection need them: this client's wire and coldcopy serve's server.
 */
public final class SocketChannels {
    private SocketChannels() {
    }

    /** fills {@code dst} completely; EOFException naming {@code peer} when it closed the connection first */
    public static void readFully(SocketChannel channel, ByteBuffer dst, String peer) throws IOException {
        while (dst.hasRemaining()) {
            if (channel.read(dst) < 0) {
                throw new EOFException(peer + " closed the connection");
            }
        }
    }

    /** writes every remaining byte of {@code a}, then of {@code b} (null: none), gathering both in one call when it can */
    public static void write(SocketChannel channel, ByteBuffer a, ByteBuffer b) throws IOException {
        if (b == null || !b.hasRemaining()) {
            while (a.hasRemaining()) {
                channel.write(a);
            }
            return;
        }
        ByteBuffer[] both = {a, b};
        while (b.hasRemaining()) {
            channel.write(both);
        }
    }
}
