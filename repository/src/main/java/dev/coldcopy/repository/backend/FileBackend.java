package dev.coldcopy.repository.backend;

import dev.coldcopy.repository.ObjectNotFoundException;
import dev.coldcopy.repository.RepositoryException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;

/**
 * A repository in a local directory. Writes go through Camel's {@code file:} endpoint with a temporary
 * name that is renamed when complete ({@code tempPrefix}); reads use the file system directly. With
 * durable writes (the default) every object and its directory are fsynced on background threads as soon
 * as it is written, so the disk writes overlap the reading and hashing of the next chunks, and
 * {@link #flush} waits for those. The repository flushes before and after writing
 * a manifest: a manifest is never on disk before the chunks it names, and a crash cannot leave a chunk
 * file that exists but is empty, which the next backup would take as already stored.
 */
public final class FileBackend implements RepositoryBackend {
    /** prefix of files being written; never a repository object */
    public static final String TEMP_PREFIX = ".tmp-";
    /** fsyncs in flight at once: the file system commits concurrent ones together */
    private static final int SYNC_THREADS = 4;

    private final Path root;
    private final CamelDelivery delivery;
    private final boolean durable;
    private final ExecutorService syncer;
    private final List<Future<?>> syncing = new ArrayList<>();

    public FileBackend(Path root, CamelContext context, boolean durable) throws IOException {
        this.durable = durable;
        this.syncer = durable ? Executors.newFixedThreadPool(SYNC_THREADS, r -> {
            Thread t = new Thread(r, "coldcopy-fsync");
            t.setDaemon(true);
            return t;
        }) : null;
        this.root = root.toAbsolutePath().normalize();
        Files.createDirectories(this.root);
        this.delivery = new CamelDelivery(context, endpointUri(this.root), Exchange.FILE_NAME);
    }

    static String endpointUri(Path root) {
        return "file:" + root + "?tempPrefix=" + TEMP_PREFIX + "&fileExist=Override&autoCreate=true";
    }

    public Path root() {
        return root;
    }

    @Override
    public String describe() {
        return "file:" + root;
    }

    @Override
    public boolean exists(String key) {
        return Files.isRegularFile(resolve(key));
    }

    @Override
    public void put(String key, byte[] data) throws IOException {
        delivery.send(key, key, data, Map.of());
        if (durable) {
            Path file = resolve(key);
            synchronized (this) {
                syncing.add(syncer.submit(() -> {
                    force(file);
                    force(file.getParent()); // the rename from the temporary name
                    return null;
                }));
            }
        }
    }

    @Override
    public void flush() throws IOException {
        if (!durable) {
            return;
        }
        List<Future<?>> pending;
        synchronized (this) {
            pending = new ArrayList<>(syncing);
            syncing.clear();
        }
        try {
            for (Future<?> f : pending) {
                f.get();
            }
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw new RepositoryException("syncing to disk in " + describe() + " failed: "
                    + (c instanceof IOException io ? CamelDelivery.describe(io) : String.valueOf(c)), c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RepositoryException("interrupted while syncing " + describe() + " to disk");
        }
    }

    private static void force(Path path) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    @Override
    public byte[] get(String key) throws IOException {
        try {
            return Files.readAllBytes(resolve(key));
        } catch (NoSuchFileException e) {
            throw new ObjectNotFoundException(key, describe());
        } catch (IOException e) {
            throw new RepositoryException("reading " + key + " from " + describe() + " failed: " + CamelDelivery.describe(e), e);
        }
    }

    @Override
    public Map<String, Long> listSizes(String prefix) throws IOException {
        Path start = resolve(prefix.isEmpty() ? "." : prefix);
        if (!Files.isDirectory(start)) {
            return Map.of();
        }
        Map<String, Long> keys = new HashMap<>();
        try {
            Files.walkFileTree(start, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path p, BasicFileAttributes attrs) {
                    if (attrs.isRegularFile() && !p.getFileName().toString().startsWith(TEMP_PREFIX)) {
                        keys.put(root.relativize(p).toString().replace('\\', '/'), attrs.size());
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path p, IOException e) throws IOException {
                    if (e instanceof NoSuchFileException) {
                        return FileVisitResult.CONTINUE; // removed while we walked (a prune, a rename)
                    }
                    throw e;
                }
            });
        } catch (IOException | UncheckedIOException e) {
            throw new RepositoryException("listing " + prefix + " in " + describe() + " failed: " + CamelDelivery.describe(e), e);
        }
        return keys;
    }

    @Override
    public void delete(String key) throws IOException {
        Files.deleteIfExists(resolve(key));
    }





    private Path resolve(String key) {
        Path p = root.resolve(key).normalize();
        if (!p.startsWith(root)) {
            throw new IllegalArgumentException("key escapes the repository: " + key);
        }
        return p;
    }

    @Override
    public CamelDelivery delivery() {
        return delivery;
    }

    @Override
    public void close() {
        delivery.close();
        if (syncer != null) {
            syncer.shutdown(); // fsyncs already queued still run; nothing waits for them
        }
    }
}
