package dev.coldcopy.nbd.testing;

import dev.coldcopy.nbd.protocol.NbdUri;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A running NBD server started by a test: its URI, its process, and cleanup (process tree killed,
 * socket directory deleted) on close.
 */
public abstract class ExternalNbdServer implements AutoCloseable {
    protected static final Duration START_TIMEOUT = Duration.ofSeconds(20);

    private final ExternalProcess process;
    private final Path dir;
    private final NbdUri uri;

    protected ExternalNbdServer(List<String> command, Path dir, NbdUri uri) {
        this.dir = dir;
        this.uri = uri;
        this.process = new ExternalProcess(command, dir.resolve("server.log"));
        try {
            if (uri.transport() == NbdUri.Transport.UNIX) {
                process.awaitUnixSocket(uri.socket(), START_TIMEOUT);
            } else {
                process.awaitTcpPort(uri.port(), START_TIMEOUT);
            }
        } catch (RuntimeException e) {
            SocketDirs.delete(dir);
            throw e;
        }
    }

    public NbdUri uri() {
        return uri;
    }

    /** The URI for another export name on the same server. */
    public NbdUri uri(String exportName) {
        return new NbdUri(uri.transport(), uri.host(), uri.port(), uri.socket(), exportName, uri.tls());
    }

    public long pid() {
        return process.pid();
    }

    public String log() {
        return process.log();
    }

    /** SIGKILL now (the directory is still removed by {@link #close()}). */
    public void kill() {
        process.kill();
    }

    public boolean isAlive() {
        return process.process().isAlive();
    }

    @Override
    public void close() {
        process.close();
        SocketDirs.delete(dir);
    }
}
