package dev.coldcopy.cli;

import dev.coldcopy.serve.ServerTls;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** serve's TLS: a certificate and its key make the server TLS-only and allow a non-loopback --listen. */
final class ServeTlsOptions {
    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "PEM certificate (chain, the server's first) for TLS; with it, clients must start TLS (nbds://)"
                    + " and --listen may use any address. Needs --tls-key and --listen.")
    Path certificate;

    @Option(names = "--tls-key", paramLabel = "FILE",
            description = "PEM private key of --tls-cert (PKCS#8 'BEGIN PRIVATE KEY', or PKCS#1 for RSA; unencrypted).")
    Path key;

    /** null without TLS */
    ServerTls load() {
        if (certificate == null && key == null) {
            return null;
        }
        if (certificate == null || key == null) {
            throw new IllegalArgumentException("--tls-cert and --tls-key go together: give both, or neither");
        }
        return ServerTls.fromPem(certificate, key);
    }
}
