package dev.coldcopy.qemu;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A started NBD export. {@link #close()} stops the server and deletes its directory (socket, pid file,
 * overlay, log); it is idempotent and never throws, and it finishes even on an interrupted thread.
 */
public final class RunningExport implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RunningExport.class);

    /** Stops the server process; may assume nothing about its state (it may have died). */
    interface Stopper {
        void stop();
    }

    private final ExportDirectory directory;
    private final String exportName;
    private final Optional<String> bitmap;
    private final long pid;
    private final String program;
    private final Stopper stopper;
    private final AtomicBoolean closed = new AtomicBoolean();

    RunningExport(ExportDirectory directory, String exportName, Optional<String> bitmap, long pid, String program,
            Stopper stopper) {
        this.directory = directory;
        this.exportName = exportName;
        this.bitmap = bitmap;
        this.pid = pid;
        this.program = program;
        this.stopper = stopper;
    }

    public Path socketPath() {
        return directory.socket();
    }

    public Path directory() {
        return directory.path();
    }

    public String exportName() {
        return exportName;
    }

    /** {@code nbd+unix:///NAME?socket=PATH} (the NBD URI spec's form for Unix sockets). */
    public String nbdUri() {
        return "nbd+unix:///" + exportName + "?socket=" + percentEncode(socketPath().toString());
    }

    /** RFC 3986: keep unreserved characters and '/', escape the rest as UTF-8 bytes. */
    static String percentEncode(String s) {
        StringBuilder b = new StringBuilder();
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (x & 0xff);
            if (c < 0x80 && (Character.isLetterOrDigit(c) || "-._~/".indexOf(c) >= 0)) {
                b.append(c);
            } else {
                b.append('%').append(String.format("%02X", x & 0xff));
            }
        }
        return b.toString();
    }

    /**
     * The dirty bitmap exported with the image, if any: a bitmap name; NBD clients read it as the meta context
     * {@code qemu:dirty-bitmap:NAME}. Empty for a full backup.
     */
    public Optional<String> bitmap() {
        return bitmap;
    }

    /** The server's pid (qemu-storage-daemon or qemu-nbd). */
    public long pid() {
        return pid;
    }

    public String program() {
        return program;
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            stopper.stop();
        } catch (RuntimeException e) {
            LOG.warn("stopping {} (pid {}) failed: {}", program, pid, e.getMessage());
        } finally {
            try {
                directory.delete();
            } catch (RuntimeException e) {
                LOG.warn("removing {} failed: {}", directory, e.getMessage());
            }
        }
        LOG.debug("export {} stopped and removed", directory);
    }

    @Override
    public String toString() {
        return program + " pid " + pid + " " + nbdUri() + bitmap().map(b -> " bitmap " + b).orElse("");
    }
}
