package dev.coldcopy.nbd.testing;

import dev.coldcopy.testing.Tools;
import dev.coldcopy.nbd.protocol.NbdUri;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * qemu-nbd serving one image, persistent ({@code -t}), on a Unix socket in a private temp dir or on a
 * free loopback TCP port. Example:
 * <pre>try (QemuNbdServer s = QemuNbdServer.builder(img).readOnly(true).bitmap("b0").start()) { s.uri() ... }</pre>
 */
public final class QemuNbdServer extends ExternalNbdServer {

    private QemuNbdServer(List<String> cmd, Path dir, NbdUri uri) {
        super(cmd, dir, uri);
    }

    public static Builder builder(Path image) {
        return new Builder(image);
    }

    public static final class Builder {
        private final Path image;
        private String format = "qcow2";
        private String exportName = "disk";
        private boolean readOnly = true;
        private int shared = 0;
        private final List<String> bitmaps = new ArrayList<>();
        private boolean tcp;
        private Path tlsCredsDir;
        private boolean tlsVerifyPeer;
        private final List<String> extra = new ArrayList<>();

        private Builder(Path image) {
            this.image = image;
        }

        /** Image format for {@code -f} [qcow2]; null lets qemu-nbd probe. */
        public Builder format(String f) {
            this.format = f;
            return this;
        }

        public Builder exportName(String n) {
            this.exportName = n;
            return this;
        }

        public Builder readOnly(boolean r) {
            this.readOnly = r;
            return this;
        }

        /** {@code --shared=N}: concurrent clients; qemu-nbd then advertises CAN_MULTI_CONN (read-only or writable). */
        public Builder shared(int n) {
            this.shared = n;
            return this;
        }

        /** {@code -B NAME}: exports qemu:dirty-bitmap:NAME. */
        public Builder bitmap(String name) {
            this.bitmaps.add(name);
            return this;
        }

        /** Listen on a free 127.0.0.1 port instead of a Unix socket. */
        public Builder tcp() {
            this.tcp = true;
            return this;
        }

        /** TLS with x509 credentials from DIR (ca-cert.pem, server-cert.pem, server-key.pem); implies TCP. */
        public Builder tls(Path credsDir, boolean verifyPeer) {
            this.tlsCredsDir = credsDir;
            this.tlsVerifyPeer = verifyPeer;
            this.tcp = true;
            return this;
        }

        public Builder arg(String a) {
            this.extra.add(a);
            return this;
        }

        public QemuNbdServer start() {
            Path dir = SocketDirs.create();
            List<String> cmd = new ArrayList<>(List.of("qemu-nbd", "--persistent", "--export-name=" + exportName));
            if (format != null) {
                cmd.add("--format=" + format);
            }
            if (readOnly) {
                cmd.add("--read-only");
            }
            if (shared > 0) {
                cmd.add("--shared=" + shared);
            }
            for (String b : bitmaps) {
                cmd.add("--bitmap=" + b);
            }
            if (tlsCredsDir != null) {
                cmd.add("--object");
                cmd.add("tls-creds-x509,id=tls0,dir=" + tlsCredsDir + ",endpoint=server,verify-peer=" + (tlsVerifyPeer ? "on" : "off"));
                cmd.add("--tls-creds=tls0");
            }
            cmd.addAll(extra);
            NbdUri uri;
            if (tcp) {
                int port = Tools.freePort();
                cmd.add("--bind=127.0.0.1");
                cmd.add("--port=" + port);
                uri = new NbdUri(NbdUri.Transport.TCP, "127.0.0.1", port, null, exportName, tlsCredsDir != null);
            } else {
                Path sock = dir.resolve("nbd.sock");
                cmd.add("--socket=" + sock);
                uri = NbdUri.unix(sock, exportName);
            }
            cmd.add(image.toString());
            return new QemuNbdServer(cmd, dir, uri);
        }
    }
}
