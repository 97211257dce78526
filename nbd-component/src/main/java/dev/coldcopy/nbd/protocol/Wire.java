package dev.coldcopy.nbd.protocol;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.security.SecureRandom;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.bouncycastle.tls.BasicTlsPSKIdentity;
import org.bouncycastle.tls.PSKTlsClient;
import org.bouncycastle.tls.TlsClientProtocol;
import org.bouncycastle.tls.crypto.impl.bc.BcTlsCrypto;

/**
 * The byte pipe under one NBD connection: a blocking {@link SocketChannel} (TCP or Unix), or a TLS
 * socket layered on the same TCP connection after NBD_OPT_STARTTLS. Reads come from one thread
 * (the handshake, then the connection's reader), writes from callers holding the connection's write lock.
 */
abstract class Wire implements Closeable {

    /** Fills {@code dst} completely; EOFException when the peer closed. */
    abstract void readFully(ByteBuffer dst) throws IOException;

    /** Writes every remaining byte of the buffers (a null buffer is skipped). */
    abstract void write(ByteBuffer a, ByteBuffer b) throws IOException;

    /** Half-closes the sending side when the transport allows it (after NBD_CMD_DISC). */
    abstract void shutdownOutput();

    @Override
    public abstract void close();

    static Wire connect(NbdUri uri, Duration timeout) throws IOException {
        if (uri.transport() == NbdUri.Transport.UNIX) {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                // connecting to a Unix socket does not wait for the server: no timeout needed
                ch.connect(UnixDomainSocketAddress.of(uri.socket()));
            } catch (IOException e) {
                ch.close();
                throw new NbdConnectionLostException("cannot connect to NBD socket " + uri.socket() + ": " + e.getMessage(), e);
            }
            return new ChannelWire(ch);
        }
        SocketChannel ch = SocketChannel.open();
        try {
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ch.socket().connect(new InetSocketAddress(uri.host(), uri.port()), (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        } catch (SocketTimeoutException e) {
            ch.close();
            throw new NbdTimeoutException("connecting to " + uri.host() + ":" + uri.port() + " timed out after " + timeout.toMillis() + " ms", e);
        } catch (IOException e) {
            ch.close();
            throw new NbdConnectionLostException("cannot connect to NBD server " + uri.host() + ":" + uri.port() + ": " + e.getMessage(), e);
        }
        return new ChannelWire(ch);
    }

    /** Plain blocking channel: reads land directly in the caller's buffer. */
    static final class ChannelWire extends Wire {
        final SocketChannel channel;

        ChannelWire(SocketChannel channel) {
            this.channel = channel;
        }

        @Override
        void readFully(ByteBuffer dst) throws IOException {
            SocketChannels.readFully(channel, dst, "server");
        }

        @Override
        void write(ByteBuffer a, ByteBuffer b) throws IOException {
            SocketChannels.write(channel, a, b);
        }

        @Override
        void shutdownOutput() {
            try {
                channel.shutdownOutput();
            } catch (IOException | RuntimeException ignored) {
                // the connection is going away anyway
            }
        }

        @Override
        public void close() {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing left to release
            }
        }

        /** Upgrades this TCP connection to TLS (after the server ACKed NBD_OPT_STARTTLS). */
        Wire startTls(SSLContext context, String host, int port, boolean verifyHostname) throws IOException {
            SSLSocket ssl = (SSLSocket) context.getSocketFactory().createSocket(channel.socket(), host, port, true);
            ssl.setUseClientMode(true);
            SSLParameters params = ssl.getSSLParameters();
            if (verifyHostname) {
                params.setEndpointIdentificationAlgorithm("HTTPS");
            }
            ssl.setSSLParameters(params);
            ssl.startHandshake();
            // with TLS 1.3 a server that wants a client certificate only says so after our Finished: remember
            // whether one was sent, so the first exchange that dies can name the likely cause
            boolean sentCertificate = ssl.getSession().getLocalCertificates() != null;
            return new TlsWire(ssl.getInputStream(), ssl.getOutputStream(), ssl, this, sentCertificate);
        }

        /**
         * Upgrades this TCP connection to TLS with a pre-shared key (nbdkit --tls-psk, qemu tls-creds-psk).
         * JSSE has no PSK cipher suites, so BouncyCastle's TLS protocol runs over the socket's streams.
         */
        Wire startTlsPsk(TlsPsk psk) throws IOException {
            TlsClientProtocol protocol = new TlsClientProtocol(channel.socket().getInputStream(), channel.socket().getOutputStream());
            PskClient client = new PskClient(psk);
            try {
                protocol.connect(client);
            } catch (IOException e) {
                throw new TlsPskHandshakeException(e, client.serverChosePsk);
            }
            return new TlsWire(protocol.getInputStream(), protocol.getOutputStream(), protocol::close, this, true);
        }
    }

    /** BouncyCastle's PSK client, noting whether the server answered with a PSK cipher suite. */
    private static final class PskClient extends PSKTlsClient {
        private boolean serverChosePsk;

        PskClient(TlsPsk psk) {
            super(new BcTlsCrypto(new SecureRandom()), new BasicTlsPSKIdentity(psk.identity(), psk.key()));
        }

        @Override
        public void notifySelectedCipherSuite(int selectedCipherSuite) {
            super.notifySelectedCipherSuite(selectedCipherSuite);
            serverChosePsk = true; // only PSK suites are offered, so any suite the server picks is one
        }
    }

    /** A failed TLS-PSK handshake; {@link #serverChosePsk()} tells whether the server had agreed to use a PSK. */
    static final class TlsPskHandshakeException extends IOException {
        private static final long serialVersionUID = 1L;
        private final boolean serverChosePsk;

        TlsPskHandshakeException(IOException cause, boolean serverChosePsk) {
            super(cause.getMessage(), cause);
            this.serverChosePsk = serverChosePsk;
        }

        boolean serverChosePsk() {
            return serverChosePsk;
        }
    }

    /** TLS over TCP (an SSLSocket, or BouncyCastle's protocol for PSK); data passes through heap arrays. */
    static final class TlsWire extends Wire {
        private final Closeable session;
        private final ChannelWire plain;
        private final InputStream in;
        private final OutputStream out;
        private byte[] readScratch = new byte[0];
        private byte[] writeScratch = new byte[0];
        private final boolean sentClientCertificate;

        TlsWire(InputStream in, OutputStream out, Closeable session, ChannelWire plain, boolean sentClientCertificate) {
            this.session = session;
            this.sentClientCertificate = sentClientCertificate;
            this.plain = plain;
            this.in = in;
            this.out = out;
        }

        @Override
        void readFully(ByteBuffer dst) throws IOException {
            if (dst.hasArray()) {
                int n = in.readNBytes(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
                dst.position(dst.position() + n);
                if (dst.hasRemaining()) {
                    throw new EOFException("server closed the connection");
                }
                return;
            }
            while (dst.hasRemaining()) {
                int want = Math.min(dst.remaining(), 256 * 1024);
                if (readScratch.length < want) {
                    readScratch = new byte[want];
                }
                int n = in.readNBytes(readScratch, 0, want);
                dst.put(readScratch, 0, n);
                if (n < want) {
                    throw new EOFException("server closed the connection");
                }
            }
        }

        @Override
        void write(ByteBuffer a, ByteBuffer b) throws IOException {
            // one array per request so header and payload travel in the same TLS record
            int total = a.remaining() + (b == null ? 0 : b.remaining());
            if (writeScratch.length < total) {
                writeScratch = new byte[total];
            }
            int n = a.remaining();
            a.get(writeScratch, 0, n);
            if (b != null) {
                b.get(writeScratch, n, b.remaining());
            }
            out.write(writeScratch, 0, total);
            out.flush();
        }

        /** Whether the client presented a certificate (always true for PSK, where none is needed). */
        boolean sentClientCertificate() {
            return sentClientCertificate;
        }

        @Override
        void shutdownOutput() {
            // a TLS session cannot half-close; close() ends it
        }

        @Override
        public void close() {
            try {
                session.close();
            } catch (IOException | RuntimeException ignored) {
                // nothing left to release
            }
            plain.close();
        }
    }
}
