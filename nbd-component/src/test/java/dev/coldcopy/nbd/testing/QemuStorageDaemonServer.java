package dev.coldcopy.nbd.testing;

import dev.coldcopy.nbd.protocol.NbdUri;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * qemu-storage-daemon exporting one qcow2 image over NBD on a Unix socket, optionally with dirty
 * bitmaps ({@code bitmaps.N=NAME} on the export) and writable.
 */
public final class QemuStorageDaemonServer extends ExternalNbdServer {

    private QemuStorageDaemonServer(List<String> cmd, Path dir, NbdUri uri) {
        super(cmd, dir, uri);
    }

    public static Builder builder(Path qcow2) {
        return new Builder(qcow2);
    }

    public static final class Builder {
        private final Path image;
        private String exportName = "disk";
        private boolean writable;
        private final List<String> bitmaps = new ArrayList<>();

        private Builder(Path image) {
            this.image = image;
        }

        public Builder exportName(String n) {
            this.exportName = n;
            return this;
        }

        public Builder writable(boolean w) {
            this.writable = w;
            return this;
        }

        public Builder bitmap(String name) {
            this.bitmaps.add(name);
            return this;
        }

        public QemuStorageDaemonServer start() {
            Path dir = SocketDirs.create();
            Path sock = dir.resolve("nbd.sock");
            List<String> cmd = new ArrayList<>(List.of("qemu-storage-daemon",
                    "--blockdev", "driver=file,node-name=file0,filename=" + image + (writable ? "" : ",read-only=on"),
                    "--blockdev", "driver=qcow2,node-name=disk0,file=file0" + (writable ? "" : ",read-only=on"),
                    "--nbd-server", "addr.type=unix,addr.path=" + sock));
            StringBuilder export = new StringBuilder("type=nbd,id=export0,node-name=disk0,name=" + exportName
                    + ",writable=" + (writable ? "on" : "off"));
            for (int i = 0; i < bitmaps.size(); i++) {
                export.append(",bitmaps.").append(i).append('=').append(bitmaps.get(i));
            }
            cmd.add("--export");
            cmd.add(export.toString());
            return new QemuStorageDaemonServer(cmd, dir, NbdUri.unix(sock, exportName));
        }
    }
}
