package dev.coldcopy.restore;

import dev.coldcopy.nbd.protocol.NbdClient;
import dev.coldcopy.nbd.protocol.NbdClientOptions;
import dev.coldcopy.nbd.protocol.NbdUri;
import dev.coldcopy.qemu.ExportDirectory;
import dev.coldcopy.qemu.QemuNbdProcess;
import dev.coldcopy.qemu.QemuTools;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * One image behind a qemu-nbd of our own (see {@link QemuNbdProcess}) on a socket in a private temp
 * directory, and the project's NBD client on it: restore writes through one, serve --onto reads a base
 * through one. {@link #close()} disconnects, stops qemu-nbd and removes the directory, once, whatever
 * happened before.
 */
public final class PrivateNbdExport implements AutoCloseable {
    private static final QemuTools QEMU = QemuTools.defaults();
    private static final Duration STOP_GRACE = Duration.ofSeconds(10);
    private static final Duration IO_TIMEOUT = Duration.ofMinutes(5);

    private final ExportDirectory dir;
    private QemuNbdProcess server;
    private NbdClient client;
    private boolean closed;

    private PrivateNbdExport(ExportDirectory dir) {
        this.dir = dir;
    }

    /** starts qemu-nbd with these options (format, cache, read-only...) and connects; nothing is left running on failure */
    public static PrivateNbdExport open(String dirPrefix, Path image, List<String> qemuNbdOptions) throws IOException {
        PrivateNbdExport export = new PrivateNbdExport(ExportDirectory.temporary(dirPrefix));
        try {
            export.server = QemuNbdProcess.start(QEMU, export.dir, qemuNbdOptions, image);
            export.client = NbdClient.connect(NbdUri.unix(export.server.socket(), ""),
                    NbdClientOptions.builder().ioTimeout(IO_TIMEOUT).build());
            return export;
        } catch (IOException | RuntimeException e) {
            export.close();
            throw e;
        }
    }

    public NbdClient client() {
        return client;
    }

    /** Also called from a shutdown hook when a restore is interrupted: once is enough. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (client != null) {
                client.close();
            }
        } finally {
            // qemu-nbd leaves on its own when its only client disconnects; make sure
            if (server != null) {
                server.stop(STOP_GRACE);
            }
            dir.delete();
        }
    }
}
