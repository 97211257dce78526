package dev.coldcopy.serve;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Where the server listens: a Unix socket, or a TCP address (loopback unless TLS protects it). */
public sealed interface ServeAddress {

    record Unix(Path socket) implements ServeAddress {
        @Override
        public String uri(String exportName, boolean tls) {
            return (tls ? "nbds" : "nbd") + "+unix:///" + exportName + "?socket=" + escape(socket.toAbsolutePath().toString());
        }
    }

    /** port 0 picks a free port; the bound one is in {@link NbdServer#address()} */
    record Tcp(String host, int port) implements ServeAddress {
        @Override
        public String uri(String exportName, boolean tls) {
            String h = host.contains(":") ? "[" + host + "]" : host;
            return (tls ? "nbds" : "nbd") + "://" + h + ":" + port + "/" + exportName;
        }

        public boolean loopback() throws UnknownHostException {
            return InetAddress.getByName(host).isLoopbackAddress();
        }

        InetSocketAddress socketAddress() {
            return new InetSocketAddress(host, port);
        }
    }

    /** percent-encodes all but unreserved characters and '/', as a URI query value */
    static String escape(String text) {
        StringBuilder out = new StringBuilder();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if (c < 0x80 && (Character.isLetterOrDigit(c) || "/-._~".indexOf(c) >= 0)) {
                out.append(c);
            } else {
                out.append('%').append(String.format("%02X", b & 0xff));
            }
        }
        return out.toString();
    }

    /** the NBD URI (as qemu and libnbd read it) of an export at this address; nbds: when TLS is required */
    String uri(String exportName, boolean tls);

    default String uri(String exportName) {
        return uri(exportName, false);
    }

    /** HOST:PORT, [IPv6]:PORT or :PORT (loopback) */
    static Tcp parseListen(String text) {
        int colon = text.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("--listen wants HOST:PORT, not '" + text + "'");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host.isEmpty()) {
            host = "127.0.0.1";
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--listen wants HOST:PORT; '" + text.substring(colon + 1) + "' is not a port");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--listen port " + port + " is outside 0-65535");
        }
        return new Tcp(host, port);
    }
}
