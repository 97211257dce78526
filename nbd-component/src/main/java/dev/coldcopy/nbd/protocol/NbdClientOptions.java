package dev.coldcopy.nbd.protocol;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLContext;

/** Immutable client options; build with {@link #builder()}. */
public final class NbdClientOptions {
    private final Duration connectTimeout;
    private final Duration ioTimeout;
    private final List<String> metaContexts;
    private final int maxInFlight;
    private final int connections;
    private final int readRequestSize;
    private final boolean structuredReplies;
    private final boolean extendedHeaders;
    private final boolean fastZero;
    private final SSLContext sslContext;
    private final TlsPsk tlsPsk;
    private final boolean verifyHostname;

    private NbdClientOptions(Builder b) {
        this.connectTimeout = b.connectTimeout;
        this.ioTimeout = b.ioTimeout;
        this.metaContexts = List.copyOf(b.metaContexts);
        this.maxInFlight = b.maxInFlight;
        this.connections = b.connections;
        this.readRequestSize = b.readRequestSize;
        this.structuredReplies = b.structuredReplies;
        this.extendedHeaders = b.extendedHeaders;
        this.fastZero = b.fastZero;
        this.sslContext = b.sslContext;
        this.tlsPsk = b.tlsPsk;
        this.verifyHostname = b.verifyHostname;
    }

    public static Builder builder() {
        return new Builder();
    }

    public static NbdClientOptions defaults() {
        return new Builder().build();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.connectTimeout = connectTimeout;
        b.ioTimeout = ioTimeout;
        b.metaContexts = metaContexts;
        b.maxInFlight = maxInFlight;
        b.connections = connections;
        b.readRequestSize = readRequestSize;
        b.structuredReplies = structuredReplies;
        b.extendedHeaders = extendedHeaders;
        b.fastZero = fastZero;
        b.sslContext = sslContext;
        b.tlsPsk = tlsPsk;
        b.verifyHostname = verifyHostname;
        return b;
    }

    /** Time allowed to connect and finish the handshake [10 s]. */
    public Duration connectTimeout() {
        return connectTimeout;
    }

    /** A reply not arriving within it (while the server sends nothing else) fails the request and the connection [60 s]. */
    public Duration ioTimeout() {
        return ioTimeout;
    }

    /** Meta contexts to SET_META_CONTEXT, e.g. {@code base:allocation} [none]. */
    public List<String> metaContexts() {
        return metaContexts;
    }

    /** Requests in flight per connection [64]. */
    public int maxInFlight() {
        return maxInFlight;
    }

    /** Connections to open; more than 1 only when the server advertises CAN_MULTI_CONN [1]. */
    public int connections() {
        return connections;
    }

    /** Reads are split into requests of at most this many bytes (and the server's maximum block size) [256 KiB]. */
    public int readRequestSize() {
        return readRequestSize;
    }

    /** Negotiate structured replies [true]; needed for meta contexts and sparse reads. */
    public boolean structuredReplies() {
        return structuredReplies;
    }

    /**
     * Wish for extended headers [false]. Reserved: the extended header framing is not implemented, so
     * NBD_OPT_EXTENDED_HEADERS is never sent and {@link ExportInfo#extendedHeaders()} is always false.
     */
    public boolean extendedHeaders() {
        return extendedHeaders;
    }

    /** Send NBD_CMD_FLAG_FAST_ZERO with WRITE_ZEROES when the server offers it [false]. */
    public boolean fastZero() {
        return fastZero;
    }

    /** For nbds:// URIs: the X.509 trust (and optional client key) [null: the JDK default context]. */
    public SSLContext sslContext() {
        return sslContext;
    }

    /** For nbds:// URIs: a pre-shared key instead of certificates (TLS-PSK) [null: X.509]. */
    public TlsPsk tlsPsk() {
        return tlsPsk;
    }

    /** Check that the server certificate names the host of the URI [true]. */
    public boolean verifyHostname() {
        return verifyHostname;
    }

    public static final class Builder {
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Duration ioTimeout = Duration.ofSeconds(60);
        private List<String> metaContexts = List.of();
        private int maxInFlight = 64;
        private int connections = 1;
        private int readRequestSize = 256 * 1024;
        private boolean structuredReplies = true;
        private boolean extendedHeaders = false;
        private boolean fastZero = false;
        private SSLContext sslContext;
        private TlsPsk tlsPsk;
        private boolean verifyHostname = true;

        private Builder() {
        }

        public Builder connectTimeout(Duration d) {
            this.connectTimeout = positive(d, "connectTimeout");
            return this;
        }

        public Builder ioTimeout(Duration d) {
            this.ioTimeout = positive(d, "ioTimeout");
            return this;
        }

        public Builder metaContexts(List<String> contexts) {
            this.metaContexts = List.copyOf(contexts);
            return this;
        }

        public Builder metaContexts(String... contexts) {
            return metaContexts(List.of(contexts));
        }

        public Builder maxInFlight(int n) {
            if (n < 1 || n > 4096) {
                throw new IllegalArgumentException("maxInFlight must be 1..4096: " + n);
            }
            this.maxInFlight = n;
            return this;
        }

        public Builder connections(int n) {
            if (n < 1 || n > 64) {
                throw new IllegalArgumentException("connections must be 1..64: " + n);
            }
            this.connections = n;
            return this;
        }

        public Builder readRequestSize(int bytes) {
            if (bytes < 512 || bytes > 64 * 1024 * 1024) {
                throw new IllegalArgumentException("readRequestSize must be 512 B..64 MiB: " + bytes);
            }
            this.readRequestSize = bytes;
            return this;
        }

        public Builder structuredReplies(boolean b) {
            this.structuredReplies = b;
            return this;
        }

        /**
         * Reserved: the client does not implement the extended header framing yet, so it never requests
         * NBD_OPT_EXTENDED_HEADERS whatever this says (qemu 7.2 and nbdkit 1.32 do not offer it anyway).
         */
        public Builder extendedHeaders(boolean b) {
            this.extendedHeaders = b;
            return this;
        }

        public Builder fastZero(boolean b) {
            this.fastZero = b;
            return this;
        }

        public Builder sslContext(SSLContext ctx) {
            this.sslContext = ctx;
            return this;
        }

        public Builder tlsPsk(TlsPsk psk) {
            this.tlsPsk = psk;
            return this;
        }

        public Builder verifyHostname(boolean b) {
            this.verifyHostname = b;
            return this;
        }

        public NbdClientOptions build() {
            return new NbdClientOptions(this);
        }

        private static Duration positive(Duration d, String name) {
            Objects.requireNonNull(d, name);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive: " + d);
            }
            return d;
        }
    }
}
