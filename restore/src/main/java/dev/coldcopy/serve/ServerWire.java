package dev.coldcopy.serve;

import dev.coldcopy.nbd.protocol.SocketChannels;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLSocket;

/**
 * The bytes under one server connection: the accepted channel, or TLS over it once the client asked for
 * NBD_OPT_STARTTLS. One thread reads and writes (a connection answers its requests one after the other).
 */
abstract class ServerWire implements Closeable {

    /** fills {@code dst} completely; EOFException when the client closed */
    abstract void readFully(ByteBuffer dst) throws IOException;

    /** writes every remaining byte of {@code a}, then of {@code b} (null: none) */
    abstract void write(ByteBuffer a, ByteBuffer b) throws IOException;

    @Override
    public abstract void close();

    static ServerWire plain(SocketChannel channel) {
        return new Plain(channel);
    }

    static final class Plain extends ServerWire {
        final SocketChannel channel;

        Plain(SocketChannel channel) {
            this.channel = channel;
        }

        @Override
        void readFully(ByteBuffer dst) throws IOException {
            SocketChannels.readFully(channel, dst, "client");
        }

        @Override
        void write(ByteBuffer a, ByteBuffer b) throws IOException {
            SocketChannels.write(channel, a, b);
        }

        @Override
        public void close() {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing left to release
            }
        }
    }

    /** TLS session streams over the plain channel; every buffer here is a heap one */
    static final class Tls extends ServerWire {
        /** how long a closing connection waits for the client's close_notify */
        private static final int CLOSE_NOTIFY_WAIT_MILLIS = 1000;
        private final SSLSocket session;
        private final Plain plain;
        private final InputStream in;
        private final OutputStream out;
        private byte[] scratch = new byte[0];

        Tls(SSLSocket session, InputStream in, OutputStream out, Plain plain) {
            this.session = session;
            this.in = in;
            this.out = out;
            this.plain = plain;
        }

        @Override
        void readFully(ByteBuffer dst) throws IOException {
            int n = in.readNBytes(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
            dst.position(dst.position() + n);
            if (dst.hasRemaining()) {
                throw new EOFException("client closed the connection");
            }
        }

        @Override
        void write(ByteBuffer a, ByteBuffer b) throws IOException {
            // header and payload in one array, so a reply travels in as few TLS records as it can
            int total = a.remaining() + (b == null ? 0 : b.remaining());
            if (scratch.length < total) {
                scratch = new byte[total];
            }
            int n = a.remaining();
            a.get(scratch, 0, n);
            if (b != null) {
                b.get(scratch, n, b.remaining());
            }
            out.write(scratch, 0, total);
            out.flush();
        }

        /**
         * Clients end with close_notify after NBD_CMD_DISC (gnutls_bye). Closing before it arrived makes
         * TLS 1.3 JSSE send user_canceled, which GnuTLS reports as a fatal alert: wait for it briefly first.
         */
        @Override
        public void close() {
            try {
                session.setSoTimeout(CLOSE_NOTIFY_WAIT_MILLIS);
                while (in.read(scratch.length == 0 ? new byte[1] : scratch) >= 0) {
                    // nothing more is expected; whatever comes is dropped
                }
            } catch (IOException | RuntimeException ignored) {
                // timed out or the client is gone: close anyway
            }
            try {
                session.close();
            } catch (IOException | RuntimeException ignored) {
                // the client may be gone already
            }
            plain.close();
        }
    }
}
