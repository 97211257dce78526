package dev.coldcopy.nbd.testing;

import dev.coldcopy.testing.Tools;
import dev.coldcopy.nbd.protocol.NbdUri;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * nbdkit in the foreground ({@code -f --exit-with-parent}) with a plugin, its parameters and filters,
 * on a Unix socket in a private temp dir or a free loopback TCP port. Example:
 * <pre>NbdkitServer.builder("pattern").param("size=1G").filter("delay").param("rdelay=10ms").start()</pre>
 */
public final class NbdkitServer extends ExternalNbdServer {

    private NbdkitServer(List<String> cmd, Path dir, NbdUri uri) {
        super(cmd, dir, uri);
    }

    public static Builder builder(String plugin) {
        return new Builder(plugin);
    }

    public static final class Builder {
        private final String plugin;
        private final List<String> params = new ArrayList<>();
        private final List<String> filters = new ArrayList<>();
        private final List<String> options = new ArrayList<>();
        private boolean readOnly;
        private boolean tcp;
        private boolean tls;
        private String exportName = "";

        private Builder(String plugin) {
            this.plugin = plugin;
        }

        /** A plugin or filter parameter, {@code key=value}. */
        public Builder param(String keyValue) {
            this.params.add(keyValue);
            return this;
        }

        /** Adds {@code --filter=NAME} (filters stack in the order added, first = outermost). */
        public Builder filter(String name) {
            this.filters.add(name);
            return this;
        }

        /** A raw nbdkit option such as {@code --threads=4}. */
        public Builder option(String o) {
            this.options.add(o);
            return this;
        }

        public Builder readOnly(boolean r) {
            this.readOnly = r;
            return this;
        }

        public Builder tcp() {
            this.tcp = true;
            return this;
        }

        /** {@code --tls=require --tls-psk=FILE} (a psktool key file) on TCP; the URI becomes nbds://. */
        public Builder tlsPsk(Path pskFile) {
            this.options.add("--tls=require");
            this.options.add("--tls-psk=" + pskFile);
            this.tls = true;
            this.tcp = true;
            return this;
        }

        /** {@code --tls=require --tls-certificates=DIR} (ca-cert.pem, server-cert.pem, server-key.pem) on TCP. */
        public Builder tlsCertificates(Path dir, boolean verifyPeer) {
            this.options.add("--tls=require");
            this.options.add("--tls-certificates=" + dir);
            if (verifyPeer) {
                this.options.add("--tls-verify-peer");
            }
            this.tls = true;
            this.tcp = true;
            return this;
        }

        /** The export name written into {@link #uri()} (nbdkit serves any name unless a filter restricts it). */
        public Builder exportName(String n) {
            this.exportName = n;
            return this;
        }

        public NbdkitServer start() {
            Path dir = SocketDirs.create();
            List<String> cmd = new ArrayList<>(List.of("nbdkit", "--foreground", "--exit-with-parent"));
            if (readOnly) {
                cmd.add("--readonly");
            }
            NbdUri uri;
            if (tcp) {
                int port = Tools.freePort();
                cmd.add("--ipaddr=127.0.0.1");
                cmd.add("--port=" + port);
                uri = new NbdUri(NbdUri.Transport.TCP, "127.0.0.1", port, null, exportName, tls);
            } else {
                Path sock = dir.resolve("nbd.sock");
                cmd.add("--unix=" + sock);
                uri = NbdUri.unix(sock, exportName);
            }
            cmd.addAll(options);
            for (String f : filters) {
                cmd.add("--filter=" + f);
            }
            cmd.add(plugin);
            cmd.addAll(params);
            return new NbdkitServer(cmd, dir, uri);
        }
    }
}
