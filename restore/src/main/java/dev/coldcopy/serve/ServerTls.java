package dev.coldcopy.serve;

import dev.coldcopy.nbd.protocol.TlsCredentials;
import java.io.IOException;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * The server's side of NBD_OPT_STARTTLS: an X.509 certificate chain and its private key (PEM, as qemu-nbd
 * and nbdkit take them). With it the server is TLS-only: nothing but STARTTLS and ABORT before TLS.
 * TLS runs over TCP only; a Unix socket is guarded by its file permissions instead.
 */
public final class ServerTls {
    private final SSLContext context;
    private final Path certificate;

    private ServerTls(SSLContext context, Path certificate) {
        this.context = context;
        this.certificate = certificate;
    }

    /**
     * Reads a PEM certificate (chain, server's first) and its PEM private key (PKCS#8, or PKCS#1 for RSA).
     * Throws IllegalArgumentException with a one-line reason when they cannot be read or do not match.
     */
    public static ServerTls fromPem(Path certificateChain, Path privateKey) {
        // the client-side builder does the parsing and the key-matches-certificate check; its trust
        // managers (the JVM's defaults) are never used: the server asks clients for no certificate
        return new ServerTls(TlsCredentials.fromPemFiles(null, certificateChain, privateKey), certificateChain);
    }

    /** the certificate file, for log lines (the key's name and bytes are never logged) */
    public Path certificate() {
        return certificate;
    }

    /** runs the server's TLS handshake over the connection after STARTTLS was ACKed */
    ServerWire upgrade(ServerWire.Plain plain) throws IOException {
        SSLSocket ssl = (SSLSocket) context.getSocketFactory().createSocket(plain.channel.socket(), null, true);
        ssl.setUseClientMode(false);
        ssl.startHandshake();
        return new ServerWire.Tls(ssl, ssl.getInputStream(), ssl.getOutputStream(), plain);
    }
}
