package dev.coldcopy.nbd.testing;

import dev.coldcopy.testing.Tools;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A throw-away PKI made with the openssl CLI: a CA and a server certificate for 127.0.0.1/localhost,
 * laid out as qemu's {@code tls-creds-x509} expects (ca-cert.pem, server-cert.pem, server-key.pem).
 */
public final class TlsCertificates {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private TlsCertificates() {
    }

    /** Creates the credentials directory and returns it. */
    public static Path create(Path dir) {
        try {
            Files.createDirectories(dir);
            String d = dir.toString();
            Tools.run(TIMEOUT, List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "/ca-key.pem",
                    "-out", d + "/ca-cert.pem", "-subj", "/CN=coldcopy test CA", "-days", "2"));
            Tools.run(TIMEOUT, List.of("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "/server-key.pem",
                    "-out", d + "/server.csr", "-subj", "/CN=localhost"));
            // qemu (GnuTLS) insists on a non-CA server certificate with serverAuth usage
            Files.writeString(dir.resolve("server-ext.cnf"), "basicConstraints=critical,CA:FALSE\n"
                    + "keyUsage=critical,digitalSignature,keyEncipherment\n"
                    + "extendedKeyUsage=serverAuth\n"
                    + "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
            Tools.run(TIMEOUT, List.of("openssl", "x509", "-req", "-in", d + "/server.csr", "-CA", d + "/ca-cert.pem",
                    "-CAkey", d + "/ca-key.pem", "-CAcreateserial", "-out", d + "/server-cert.pem", "-days", "2",
                    "-extfile", d + "/server-ext.cnf"));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Adds a client certificate signed by the CA in {@code dir} (client-cert.pem, client-key.pem as PKCS#8,
     * client-key-pkcs1.pem as PKCS#1), as qemu's verify-peer=on and nbdkit's --tls-verify-peer want.
     */
    public static Path createClient(Path dir) {
        try {
            String d = dir.toString();
            Tools.run(TIMEOUT, List.of("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "/client-key.pem",
                    "-out", d + "/client.csr", "-subj", "/CN=coldcopy client"));
            Files.writeString(dir.resolve("client-ext.cnf"), "basicConstraints=critical,CA:FALSE\n"
                    + "keyUsage=critical,digitalSignature,keyEncipherment\n"
                    + "extendedKeyUsage=clientAuth\n");
            Tools.run(TIMEOUT, List.of("openssl", "x509", "-req", "-in", d + "/client.csr", "-CA", d + "/ca-cert.pem",
                    "-CAkey", d + "/ca-key.pem", "-CAcreateserial", "-out", d + "/client-cert.pem", "-days", "2",
                    "-extfile", d + "/client-ext.cnf"));
            Tools.run(TIMEOUT, List.of("openssl", "rsa", "-traditional", "-in", d + "/client-key.pem",
                    "-out", d + "/client-key-pkcs1.pem"));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An SSLContext trusting only the CA in {@code dir}. */
    public static SSLContext clientContext(Path dir) throws Exception {
        X509Certificate ca;
        try (InputStream in = Files.newInputStream(dir.resolve("ca-cert.pem"))) {
            ca = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        trust.setCertificateEntry("coldcopy-test-ca", ca);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }
}
