package dev.coldcopy.cli;

import dev.coldcopy.nbd.camel.NbdinfoMap;
import dev.coldcopy.nbd.protocol.ExportDescription;
import dev.coldcopy.nbd.protocol.Extent;
import dev.coldcopy.nbd.protocol.MetaContexts;
import dev.coldcopy.nbd.protocol.NbdClient;
import dev.coldcopy.nbd.protocol.NbdClientOptions;
import dev.coldcopy.nbd.protocol.NbdUri;
import dev.coldcopy.nbd.protocol.TlsCredentials;
import dev.coldcopy.nbd.protocol.TlsPsk;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code coldcopy map NBD-URI [--context NAME] [--json]}: prints the extents of an export exactly as
 * {@code nbdinfo --map[=NAME] [--json]} does, for debugging exports and bitmaps; {@code --list} prints the
 * server's exports instead.
 */
@Command(
        name = "map",
        mixinStandardHelpOptions = true,
        description = {
            "Print the extents of an NBD export, as `nbdinfo --map` does.",
            "",
            "One line per extent: `offset length flags description`, adjacent extents with",
            "equal flags merged. With --list, print the server's exports instead.",
            "",
            "For nbds:// URIs name the CA that signed the server's certificate with",
            "--tls-ca-file (and a client certificate and key with --tls-cert-file and",
            "--tls-key-file when the server verifies clients), or a pre-shared key file",
            "with --tls-psk-file [--tls-username NAME]. TLS options need an nbds:// URI."
        })
public final class MapCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "NBD-URI",
            description = "nbd://host[:port]/export, nbds://host[:port]/export or nbd+unix:///export?socket=PATH")
    String uri;

    @Option(names = "--context", paramLabel = "NAME", defaultValue = MetaContexts.BASE_ALLOCATION,
            description = "Meta context to map: base:allocation (default), qemu:dirty-bitmap:NAME, qemu:allocation-depth.")
    String context;

    @Option(names = "--json", description = "Print JSON as `nbdinfo --map --json` (or `--list --json`: name and description) does.")
    boolean json;

    @Option(names = "--list", description = "List the server's exports and their descriptions (like `nbdinfo --list`).")
    boolean list;

    @Option(names = "--tls-ca-file", paramLabel = "PEM", description = "CA certificate(s) that signed the server's certificate.")
    Path tlsCaFile;

    @Option(names = "--tls-cert-file", paramLabel = "PEM", description = "Client certificate, for servers that verify clients.")
    Path tlsCertFile;

    @Option(names = "--tls-key-file", paramLabel = "PEM", description = "Private key of --tls-cert-file (PKCS#8 or PKCS#1 RSA).")
    Path tlsKeyFile;

    @Option(names = "--tls-psk-file", paramLabel = "FILE",
            description = "Pre-shared key file (psktool's username:hexkey lines) for servers using TLS-PSK.")
    Path tlsPskFile;

    @Option(names = "--tls-username", paramLabel = "NAME", description = "Whose key in --tls-psk-file to use (default: its only key).")
    String tlsUsername;

    @Option(names = "--tls-no-verify-hostname", description = "Accept a server certificate that does not name the host.")
    boolean noVerifyHostname;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        NbdUri nbdUri = NbdUri.parse(uri);
        NbdClientOptions.Builder options = NbdClientOptions.builder().verifyHostname(!noVerifyHostname);
        boolean tlsOptions = tlsCaFile != null || tlsCertFile != null || tlsKeyFile != null || tlsPskFile != null
                || tlsUsername != null || noVerifyHostname;
        if (tlsOptions && !nbdUri.tls()) {
            throw new IOException(NbdClient.tlsOptionsWithoutTls(nbdUri));
        }
        for (Path p : new Path[] {tlsCaFile, tlsCertFile, tlsKeyFile, tlsPskFile}) {
            if (p != null && !Files.isReadable(p)) {
                throw new IOException("TLS file " + p + " does not exist or is not readable");
            }
        }
        if (tlsPskFile != null) {
            if (tlsCaFile != null || tlsCertFile != null || tlsKeyFile != null) {
                throw new IOException("--tls-psk-file and certificate files exclude each other");
            }
            options.tlsPsk(TlsPsk.fromFile(tlsPskFile, tlsUsername));
        } else if (tlsCaFile != null || tlsCertFile != null || tlsKeyFile != null) {
            options.sslContext(TlsCredentials.fromPemFiles(tlsCaFile, tlsCertFile, tlsKeyFile));
        }
        PrintWriter out = spec.commandLine().getOut();
        if (list) {
            List<ExportDescription> exports = NbdClient.listExports(nbdUri, options.build());
            out.print(json ? exportsJson(exports) : exportsText(exports));
            out.flush();
            return 0;
        }
        List<Extent> extents;
        try (NbdClient client = NbdClient.connect(nbdUri, options.metaContexts(List.of(context)).build())) {
            if (!client.metaContexts().contains(context)) {
                throw new IOException("server does not offer meta context '" + context + "' on " + nbdUri);
            }
            extents = client.size() == 0 ? List.of() : NbdinfoMap.merge(client.blockStatus(context, 0, client.size()));
        }
        out.print(json ? NbdinfoMap.toJson(context, extents) : NbdinfoMap.toText(context, extents));
        out.flush();
        return 0;
    }

    /**
     * The export lines of {@code nbdinfo --list}: {@code export="NAME":} and, when there is one, its description.
     * Names and descriptions come from the server, so control characters, quotes and backslashes are escaped
     * as nbdinfo escapes them: a name cannot start a line of its own.
     */
    static String exportsText(List<ExportDescription> exports) {
        StringBuilder sb = new StringBuilder();
        for (ExportDescription e : exports) {
            sb.append("export=\"").append(escape(e.name())).append("\":\n");
            if (!e.description().isEmpty()) {
                sb.append("\tdescription: ").append(escape(e.description())).append('\n');
            }
        }
        return sb.toString();
    }

    /** nbdinfo's escaping: {@code \\} and {@code \"} for backslash and quote, {@code \\uXXXX} for control characters. */
    static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        s.codePoints().forEach(c -> {
            if (c == '\\' || c == '"') {
                sb.append('\\').appendCodePoint(c);
            } else if (c < 0x20 || c == 0x7f) {
                sb.append(String.format("\\u%04x", c));
            } else {
                sb.appendCodePoint(c);
            }
        });
        return sb.toString();
    }

    static String exportsJson(List<ExportDescription> exports) throws IOException {
        List<Map<String, String>> rows = new ArrayList<>();
        for (ExportDescription e : exports) {
            Map<String, String> row = new LinkedHashMap<>();
            row.put("export-name", e.name());
            if (!e.description().isEmpty()) { // nbdinfo leaves the key out when there is none
                row.put("description", e.description());
            }
            rows.add(row);
        }
        return new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(rows) + "\n";
    }
}
