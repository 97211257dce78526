package dev.coldcopy.nbd.camel;

import dev.coldcopy.nbd.protocol.MetaContexts;
import dev.coldcopy.nbd.protocol.NbdClient;
import dev.coldcopy.nbd.protocol.NbdUri;
import dev.coldcopy.nbd.protocol.TlsCredentials;
import dev.coldcopy.nbd.protocol.TlsPsk;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;
import org.apache.camel.RuntimeCamelException;
import org.apache.camel.spi.Metadata;
import org.apache.camel.spi.UriParam;
import org.apache.camel.spi.UriParams;
import org.apache.camel.spi.UriPath;

/** The options of an {@code nbd:} endpoint. */
@UriParams
public class NbdConfiguration implements Cloneable {

    public static final long DEFAULT_CHUNK_SIZE = 4L * 1024 * 1024;

    /**
     * How the export is named: {@code unix} (options socket, exportName), {@code tcp} (host, port,
     * exportName, tls) or {@code uri} (option uri holds a whole NBD URI, e.g.
     * {@code uri=RAW(nbd+unix:///vda?socket=/run/x.sock)}).
     */
    @UriPath(enums = "unix,tcp,uri")
    @Metadata(required = true)
    private String transport;

    /** Path of the server's Unix socket (transport unix). */
    @UriParam(label = "common")
    private String socket;

    /** Server host name or address (transport tcp). */
    @UriParam(label = "common")
    private String host;

    /** Server port (transport tcp). */
    @UriParam(label = "common", defaultValue = "10809")
    private int port = 10809;

    /** Export name; qemu-nbd without -x serves the empty name. */
    @UriParam(label = "common", defaultValue = "")
    private String exportName = "";

    /** Use TLS (nbds://) over TCP. */
    @UriParam(label = "security", defaultValue = "false")
    private boolean tls;

    /**
     * The SSLContext for TLS (a bean reference, e.g. {@code sslContext=#nbdTls}), holding the CA that signed
     * the server's certificate (and a client key when the server verifies peers). Default: the JVM's.
     */
    @UriParam(label = "security")
    private SSLContext sslContext;

    /**
     * PEM file with the CA certificate(s) that signed the server's certificate (qemu's tls-creds-x509
     * {@code ca-cert.pem}, nbdkit's {@code ca-cert.pem}). Default: the JVM's trust store.
     */
    @UriParam(label = "security")
    private String tlsCaFile;

    /** PEM client certificate, for servers that verify peers (with tlsKeyFile). */
    @UriParam(label = "security")
    private String tlsCertFile;

    /** PEM private key of tlsCertFile (PKCS#8 or PKCS#1 RSA, unencrypted). */
    @UriParam(label = "security", secret = true)
    private String tlsKeyFile;

    /**
     * TLS with a pre-shared key instead of certificates: a key file as GnuTLS's psktool writes it
     * ({@code username:hexkey} lines), the one nbdkit {@code --tls-psk} and qemu {@code tls-creds-psk} read.
     */
    @UriParam(label = "security")
    private String tlsPskFile;

    /** The user name whose key in tlsPskFile to use; unset = the file's only key. */
    @UriParam(label = "security")
    private String tlsUsername;

    /** The context built from the PEM files (at validation), when sslContext was not given. */
    private transient SSLContext pemContext;
    /** The key read from tlsPskFile (at validation). */
    private transient TlsPsk psk;

    /** Check that the server's certificate names the host connected to. */
    @UriParam(label = "security", defaultValue = "true")
    private boolean verifyHostname = true;

    /**
     * A full NBD URI (transport uri): {@code nbd://host[:port]/export}, {@code nbds://host[:port]/export} or
     * {@code nbd+unix:///export?socket=PATH}. Wrap it in RAW(...) inside a Camel URI.
     */
    @UriParam(label = "common")
    private String uri;

    /**
     * The meta context to follow: {@code base:allocation} (default), {@code qemu:dirty-bitmap:NAME}, or
     * {@code qemu:allocation-depth} (extents only). base:allocation is always negotiated as well when the
     * server offers it, to skip zero ranges without reading them.
     */
    @UriParam(label = "common", defaultValue = MetaContexts.BASE_ALLOCATION)
    private String metaContext = MetaContexts.BASE_ALLOCATION;

    /**
     * Read only the ranges marked dirty (bit 0) in metaContext. Unset means: true when metaContext is a
     * {@code qemu:dirty-bitmap:} context, false otherwise.
     */
    @UriParam(label = "common")
    private Boolean dirtyOnly;

    /**
     * Largest chunk in bytes; chunks never cross a multiple of it, so a repository can align to it. A
     * multiple of 4096 up to 256 MiB.
     */
    @UriParam(label = "common", defaultValue = "4194304")
    private long chunkSize = DEFAULT_CHUNK_SIZE;

    /**
     * Chunks read ahead of the one being processed; memory is about (readAhead + 1) x chunkSize however large
     * the export.
     */
    @UriParam(label = "common", defaultValue = "4")
    private int readAhead = 4;

    /** NBD requests in flight per connection. */
    @UriParam(label = "advanced", defaultValue = "64")
    private int maxInFlight = 64;

    /** Connections to open; more than 1 is used only when the server advertises multi-conn. */
    @UriParam(label = "advanced", defaultValue = "1")
    private int connections = 1;

    /** Largest single NBD read request in bytes (also capped by the server's maximum block size). */
    @UriParam(label = "advanced", defaultValue = "262144")
    private int readRequestSize = 256 * 1024;

    /** Report DATA chunks that read as all zero as ZERO chunks (body null), as nbdcopy does. */
    @UriParam(label = "common", defaultValue = "true")
    private boolean zeroDetect = true;

    /** Connect (and handshake) timeout in milliseconds. */
    @UriParam(label = "advanced", defaultValue = "10000")
    private long connectTimeout = 10_000;

    /** A request not answered within this many milliseconds fails, and so does its connection. */
    @UriParam(label = "advanced", defaultValue = "60000")
    private long ioTimeout = 60_000;

    /** Producer operation. */
    @UriParam(label = "producer", defaultValue = "chunks")
    private NbdOperations operation = NbdOperations.chunks;

    /**
     * For the chunks operation: {@code message} makes the iterator yield Camel messages (body bytes plus
     * the chunk headers, and the incoming headers), {@code chunk} yields {@link NbdChunk} records.
     */
    @UriParam(label = "producer", enums = "message,chunk", defaultValue = "message")
    private String outputType = "message";

    /** For write: ask the server to make each write durable before replying (NBD_CMD_FLAG_FUA). */
    @UriParam(label = "producer", defaultValue = "false")
    private boolean fua;

    /** The export this configuration names, or null when nothing names one (a producer may get a header). */
    public NbdUri toNbdUri() {
        if (transport == null) {
            throw new IllegalArgumentException("nbd: endpoint needs a transport: nbd:unix, nbd:tcp or nbd:uri");
        }
        switch (transport) {
            case "unix":
                if (socket == null || socket.isBlank()) {
                    return null;
                }
                return NbdUri.unix(Path.of(socket), exportName);
            case "tcp":
                if (host == null || host.isBlank()) {
                    return null;
                }
                if (port < 1 || port > 65535) {
                    throw new IllegalArgumentException("nbd: port must be 1-65535, got " + port);
                }
                return new NbdUri(NbdUri.Transport.TCP, host, port, null, exportName, tls);
            case "uri":
                return uri == null || uri.isBlank() ? null : NbdUri.parse(uri);
            default:
                throw new IllegalArgumentException("nbd: unknown transport '" + transport
                        + "' (use nbd:unix?socket=..., nbd:tcp?host=... or nbd:uri?uri=RAW(nbd://...))");
        }
    }

    /** Whether only dirty ranges are read, resolving the "unset" default. */
    public boolean effectiveDirtyOnly() {
        return effectiveDirtyOnly(metaContext);
    }

    /** The same for another meta context than the configured one (a message header may name it). */
    boolean effectiveDirtyOnly(String context) {
        return dirtyOnly != null ? dirtyOnly : MetaContexts.isDirtyBitmap(context);
    }

    /** Rejects inconsistent options with a clear reason. */
    public void validate() {
        ChunkPlanner.checkChunkSize(chunkSize);
        if (readAhead < 1) {
            throw new IllegalArgumentException("nbd: readAhead must be at least 1, got " + readAhead);
        }
        if (maxInFlight < 1 || connections < 1 || readRequestSize < 512) {
            throw new IllegalArgumentException("nbd: maxInFlight and connections must be at least 1, readRequestSize at least 512");
        }
        if (metaContext == null || metaContext.isBlank()) {
            throw new IllegalArgumentException("nbd: metaContext must not be empty");
        }
        if (effectiveDirtyOnly() && MetaContexts.BASE_ALLOCATION.equals(metaContext)) {
            throw new IllegalArgumentException("nbd: dirtyOnly needs a dirty-bitmap metaContext "
                    + "(e.g. qemu:dirty-bitmap:NAME), not base:allocation");
        }
        checkTlsMatchesUri();
        if (tlsPskFile != null && !tlsPskFile.isBlank()) {
            if (sslContext != null || tlsCaFile != null || tlsCertFile != null || tlsKeyFile != null) {
                throw new IllegalArgumentException("nbd: tlsPskFile (a pre-shared key) and certificates "
                        + "(sslContext, tlsCaFile, tlsCertFile, tlsKeyFile) exclude each other");
            }
            try {
                psk = TlsPsk.fromFile(path(tlsPskFile), tlsUsername);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("nbd: " + e.getMessage(), e);
            }
        }
        if (sslContext == null && (tlsCaFile != null || tlsCertFile != null || tlsKeyFile != null)) {
            // built here so a missing or unreadable file fails the route at start, with its reason
            try {
                pemContext = TlsCredentials.fromPemFiles(path(tlsCaFile), path(tlsCertFile), path(tlsKeyFile));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("nbd: " + e.getMessage(), e);
            }
        } else if (sslContext != null && (tlsCaFile != null || tlsCertFile != null || tlsKeyFile != null)) {
            throw new IllegalArgumentException("nbd: give either sslContext or tlsCaFile/tlsCertFile/tlsKeyFile, not both");
        }
    }

    /** TLS options on an endpoint without TLS would be ignored and the data sent in the clear: refused. */
    private void checkTlsMatchesUri() {
        boolean tlsOptions = sslContext != null || isSet(tlsCaFile) || isSet(tlsCertFile) || isSet(tlsKeyFile)
                || isSet(tlsPskFile) || isSet(tlsUsername);
        if (!tlsOptions || transport == null) {
            return;
        }
        NbdUri target = toNbdUri();
        if (target == null) {
            return; // the URI comes per message; the client refuses it there
        }
        if (!target.tls()) {
            throw new IllegalArgumentException("nbd: " + ("tcp".equals(transport)
                    ? "TLS options given but tls=false: set tls=true (nbds://), or drop the TLS options"
                    : NbdClient.tlsOptionsWithoutTls(target)));
        }
    }

    private static boolean isSet(String s) {
        return s != null && !s.isBlank();
    }

    private static Path path(String file) {
        if (file == null || file.isBlank()) {
            return null;
        }
        Path p = Path.of(file);
        if (!Files.isReadable(p)) {
            throw new IllegalArgumentException("TLS file " + file + " does not exist or is not readable");
        }
        return p;
    }

    /** The pre-shared key read from tlsPskFile, or null. */
    public TlsPsk effectiveTlsPsk() {
        return psk;
    }

    /** The SSLContext to use: the sslContext bean, else the one built from the PEM files, else null (JVM default). */
    public SSLContext effectiveSslContext() {
        return sslContext != null ? sslContext : pemContext;
    }

    public NbdConfiguration copy() {
        try {
            return (NbdConfiguration) clone();
        } catch (CloneNotSupportedException e) {
            throw new RuntimeCamelException(e);
        }
    }

    public String getTransport() { return transport; }
    public void setTransport(String transport) { this.transport = transport; }
    public String getSocket() { return socket; }
    public void setSocket(String socket) { this.socket = socket; }
    public String getHost() { return host; }
    public void setHost(String host) { this.host = host; }
    public int getPort() { return port; }
    public void setPort(int port) { this.port = port; }
    public String getExportName() { return exportName; }
    public void setExportName(String exportName) { this.exportName = exportName == null ? "" : exportName; }
    public boolean isTls() { return tls; }
    public void setTls(boolean tls) { this.tls = tls; }
    public SSLContext getSslContext() { return sslContext; }
    public void setSslContext(SSLContext sslContext) { this.sslContext = sslContext; }
    public String getTlsCaFile() { return tlsCaFile; }
    public void setTlsCaFile(String tlsCaFile) { this.tlsCaFile = tlsCaFile; }
    public String getTlsCertFile() { return tlsCertFile; }
    public void setTlsCertFile(String tlsCertFile) { this.tlsCertFile = tlsCertFile; }
    public String getTlsKeyFile() { return tlsKeyFile; }
    public void setTlsKeyFile(String tlsKeyFile) { this.tlsKeyFile = tlsKeyFile; }
    public String getTlsPskFile() { return tlsPskFile; }
    public void setTlsPskFile(String tlsPskFile) { this.tlsPskFile = tlsPskFile; }
    public String getTlsUsername() { return tlsUsername; }
    public void setTlsUsername(String tlsUsername) { this.tlsUsername = tlsUsername; }
    public boolean isVerifyHostname() { return verifyHostname; }
    public void setVerifyHostname(boolean verifyHostname) { this.verifyHostname = verifyHostname; }
    public String getUri() { return uri; }
    public void setUri(String uri) { this.uri = uri; }
    public String getMetaContext() { return metaContext; }
    public void setMetaContext(String metaContext) { this.metaContext = metaContext; }
    public Boolean getDirtyOnly() { return dirtyOnly; }
    public void setDirtyOnly(Boolean dirtyOnly) { this.dirtyOnly = dirtyOnly; }
    public long getChunkSize() { return chunkSize; }
    public void setChunkSize(long chunkSize) { this.chunkSize = chunkSize; }
    public int getReadAhead() { return readAhead; }
    public void setReadAhead(int readAhead) { this.readAhead = readAhead; }
    public int getMaxInFlight() { return maxInFlight; }
    public void setMaxInFlight(int maxInFlight) { this.maxInFlight = maxInFlight; }
    public int getConnections() { return connections; }
    public void setConnections(int connections) { this.connections = connections; }
    public int getReadRequestSize() { return readRequestSize; }
    public void setReadRequestSize(int readRequestSize) { this.readRequestSize = readRequestSize; }
    public boolean isZeroDetect() { return zeroDetect; }
    public void setZeroDetect(boolean zeroDetect) { this.zeroDetect = zeroDetect; }
    public long getConnectTimeout() { return connectTimeout; }
    public void setConnectTimeout(long connectTimeout) { this.connectTimeout = connectTimeout; }
    public long getIoTimeout() { return ioTimeout; }
    public void setIoTimeout(long ioTimeout) { this.ioTimeout = ioTimeout; }
    public NbdOperations getOperation() { return operation; }
    public void setOperation(NbdOperations operation) { this.operation = operation; }
    public String getOutputType() { return outputType; }
    public void setOutputType(String outputType) { this.outputType = outputType; }
    public boolean isFua() { return fua; }
    public void setFua(boolean fua) { this.fua = fua; }
}
