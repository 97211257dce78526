package dev.coldcopy.nbd.protocol;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Objects;

/**
 * An NBD URI as the NBD project's {@code doc/uri.md} defines it: {@code nbd://host[:10809]/export},
 * {@code nbds://host[:port]/export} (TLS over TCP) and {@code nbd+unix:///export?socket=/path}.
 * {@code nbds+unix} is refused: TLS over a Unix socket is not supported yet.
 */
public record NbdUri(Transport transport, String host, int port, Path socket, String exportName, boolean tls) {

    public enum Transport { TCP, UNIX }

    public NbdUri {
        Objects.requireNonNull(transport, "transport");
        exportName = exportName == null ? "" : exportName;
        if (transport == Transport.TCP) {
            if (host == null || host.isEmpty()) {
                throw new IllegalArgumentException("NBD URI over TCP needs a host");
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("NBD port out of range 1..65535: " + port);
            }
        } else {
            Objects.requireNonNull(socket, "socket");
            if (tls) {
                throw new IllegalArgumentException("nbds+unix (TLS over a Unix socket) is not supported yet");
            }
        }
    }

    public static NbdUri unix(Path socket, String exportName) {
        return new NbdUri(Transport.UNIX, null, 0, socket, exportName, false);
    }

    public static NbdUri tcp(String host, int port, String exportName) {
        return new NbdUri(Transport.TCP, host, port, null, exportName, false);
    }

    /** Parses an NBD URI; IllegalArgumentException with the reason when it is not one. */
    public static NbdUri parse(String uri) {
        if (uri == null || uri.isBlank()) {
            throw new IllegalArgumentException("empty NBD URI");
        }
        URI u;
        try {
            u = new URI(uri);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a valid NBD URI '" + uri + "': " + e.getReason());
        }
        String scheme = u.getScheme();
        if (scheme == null) {
            throw new IllegalArgumentException("NBD URI '" + uri + "' has no scheme (expected nbd://, nbds:// or nbd+unix://)");
        }
        if (u.isOpaque()) {
            throw new IllegalArgumentException("NBD URI '" + uri + "' must start with " + scheme + "://");
        }
        String path = u.getRawPath() == null ? "" : u.getRawPath();
        // the export name is the path without its leading slash ("nbd://h/" and "nbd://h" name the default export)
        String export = path.startsWith("/") ? decode(path.substring(1)) : decode(path);
        String query = u.getRawQuery();
        switch (scheme.toLowerCase(java.util.Locale.ROOT)) {
            case "nbd", "nbds" -> {
                boolean tls = scheme.equalsIgnoreCase("nbds");
                String host = u.getHost();
                if (host == null || host.isEmpty()) {
                    if (u.getRawAuthority() != null && !u.getRawAuthority().isEmpty()) {
                        throw new IllegalArgumentException("NBD URI '" + uri + "' has a bad host or port '" + u.getRawAuthority() + "'");
                    }
                    throw new IllegalArgumentException("NBD URI '" + uri + "' has no host (use nbd+unix:///export?socket=PATH for Unix sockets)");
                }
                if (host.startsWith("[") && host.endsWith("]")) {
                    host = host.substring(1, host.length() - 1);
                }
                int port = u.getPort() < 0 ? NbdProtocol.DEFAULT_PORT : u.getPort();
                if (query != null && queryParam(query, "socket") != null) {
                    throw new IllegalArgumentException("NBD URI '" + uri + "': socket= only goes with nbd+unix://");
                }
                return new NbdUri(Transport.TCP, host, port, null, export, tls);
            }
            case "nbd+unix" -> {
                if (u.getRawAuthority() != null && !u.getRawAuthority().isEmpty()) {
                    throw new IllegalArgumentException("NBD URI '" + uri + "': nbd+unix takes no host (write nbd+unix:///export?socket=PATH)");
                }
                String socket = query == null ? null : queryParam(query, "socket");
                if (socket == null || socket.isEmpty()) {
                    throw new IllegalArgumentException("NBD URI '" + uri + "' lacks ?socket=PATH");
                }
                return new NbdUri(Transport.UNIX, null, 0, Path.of(socket), export, false);
            }
            case "nbds+unix" -> throw new IllegalArgumentException(
                    "NBD URI '" + uri + "': nbds+unix (TLS over a Unix socket) is not supported yet");
            case "nbd+vsock", "nbds+vsock" -> throw new IllegalArgumentException(
                    "NBD URI '" + uri + "': vsock transport is not supported");
            default -> throw new IllegalArgumentException(
                    "NBD URI '" + uri + "' has unknown scheme '" + scheme + "' (expected nbd://, nbds:// or nbd+unix://)");
        }
    }

    private static String queryParam(String rawQuery, String name) {
        for (String pair : rawQuery.split("&")) {
            int eq = pair.indexOf('=');
            String key = decode(eq < 0 ? pair : pair.substring(0, eq));
            if (key.equals(name)) {
                return eq < 0 ? "" : decode(pair.substring(eq + 1));
            }
        }
        return null;
    }

    private static String decode(String s) {
        // URLDecoder would turn '+' into a space, which URIs do not do in paths
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static String encodePath(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20").replace("%2F", "/");
    }

    /** Canonical form, e.g. {@code nbd://127.0.0.1:10809/disk} or {@code nbd+unix:///disk?socket=/run/x.sock}. */
    @Override
    public String toString() {
        if (transport == Transport.UNIX) {
            return "nbd+unix:///" + encodePath(exportName) + "?socket=" + encodePath(socket.toString());
        }
        String h = host.contains(":") ? "[" + host + "]" : host;
        return (tls ? "nbds" : "nbd") + "://" + h + ":" + port + "/" + encodePath(exportName);
    }
}
