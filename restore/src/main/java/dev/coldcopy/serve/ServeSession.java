package dev.coldcopy.serve;

import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * One snapshot being served, with everything serving it needs (chunk cache, a delta's base image, a private
 * socket directory when no address was given); {@link #close()} releases all of it. The repository stays
 * the caller's. Used by {@code coldcopy serve} and the {@code coldcopy-serve:} Camel consumer.
 */
public final class ServeSession implements AutoCloseable {

    /**
     * @param cacheBytes memory for verified chunks (0: none, and no read-ahead)
     * @param onto       a delta's base image, or null
     * @param where      where to listen; null: a socket in a new private (0700) directory under the temp dir
     * @param tls        certificate and key (TCP only), or null
     */
    public record Options(long cacheBytes, Path onto, ServeAddress where, ServerTls tls) {
    }

    private final ChunkCache cache;
    // set one after the other while starting; close() releases whichever were set
    private BaseImage base;
    private Path privateDir;
    private NbdServer server;

    private ServeSession(ChunkCache cache) {
        this.cache = cache;
    }

    public static ServeSession start(Repository repository, SnapshotManifest manifest, Options options, ClientListener clients)
            throws IOException {
        long bytes = options.cacheBytes();
        // read-ahead on as many threads as a restore fetches with: clients mostly read front to back
        ServeSession session = new ServeSession(new ChunkCache(repository, bytes, bytes == 0 ? 0 : repository.options().parallelism()));
        try {
            session.base = options.onto() == null ? null : BaseImage.open(options.onto());
            ServedExport export = ServedExport.of(manifest, session.cache, session.base);
            ServeAddress where = options.where();
            if (where == null) {
                session.privateDir = Files.createTempDirectory("coldcopy-serve-",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                where = new ServeAddress.Unix(session.privateDir.resolve("nbd.sock"));
            }
            session.server = NbdServer.start(export, where, options.tls(), clients);
            return session;
        } catch (IOException | RuntimeException e) {
            session.close();
            throw e;
        }
    }

    public NbdServer server() {
        return server;
    }

    /** stops the server (ending every connection), then releases the base image, cache and private directory */
    @Override
    public synchronized void close() {
        if (server != null) {
            server.close();
        }
        if (base != null) {
            base.close();
        }
        cache.close();
        if (privateDir != null) {
            try {
                Files.deleteIfExists(privateDir.resolve("nbd.sock"));
                Files.deleteIfExists(privateDir);
            } catch (IOException ignored) {
                // an empty temp dir left behind is harmless
            }
        }
    }
}
