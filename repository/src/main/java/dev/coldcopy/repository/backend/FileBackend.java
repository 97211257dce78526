package dev.coldcopy.repository.backend;

import dev.coldcopy.repository.ObjectNotFoundException;
import dev.coldcopy.repository.RepositoryException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;
import java.util.HashMap;
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
 *
 * <p>Chunks hold disk contents (unencrypted unless the repository has a key), so whatever the umask,
 * directories this backend creates are {@value #DIRECTORY_MODE} and objects {@value #OBJECT_MODE}: only
 * the owner can read them. A root directory that already exists keeps its mode (it is the user's).
 */
public final class FileBackend implements RepositoryBackend {
    /** prefix of files being written; never a repository object */
    public static final String TEMP_PREFIX = ".tmp-";
    /** fsyncs in flight at once: the file system commits concurrent ones together */
    private static final int SYNC_THREADS = 4;
    /** modes (octal, as Camel's chmod options take them) of objects and of directories the backend creates */
    public static final String OBJECT_MODE = "600";
    public static final String DIRECTORY_MODE = "700";
    private static final Set<PosixFilePermission> DIRECTORY_PERMISSIONS = PosixFilePermissions.fromString("rwx------");

    private final Path root;
    private final CamelDelivery delivery;
    private final boolean durable;
    private final BackgroundSyncs syncs;

    public FileBackend(Path root, CamelContext context, boolean durable) throws IOException {
        this.durable = durable;
        this.syncs = durable ? new BackgroundSyncs(SYNC_THREADS, "coldcopy-fsync") : null;
        this.root = root.toAbsolutePath().normalize();
        createDirectories(this.root);
        this.delivery = new CamelDelivery(context, endpointUri(this.root), Exchange.FILE_NAME);
    }

    static String endpointUri(Path root) {
        return "file:" + root + "?tempPrefix=" + TEMP_PREFIX + "&fileExist=Override&autoCreate=true"
                + "&chmod=" + OBJECT_MODE + "&chmodDirectory=" + DIRECTORY_MODE;
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
    public Optional<ObjectHead> head(String key, int bytes) throws IOException {
        try (FileChannel channel = FileChannel.open(resolve(key), StandardOpenOption.READ)) {
            long length = channel.size();
            ByteBuffer start = ByteBuffer.allocate((int) Math.min(bytes, length));
            while (start.hasRemaining() && channel.read(start) >= 0) {
                // a regular file delivers what it has
            }
            return Optional.of(new ObjectHead(length, Arrays.copyOf(start.array(), start.position())));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new RepositoryException("checking " + key + " in " + describe() + " failed: " + CamelDelivery.describe(e), e);
        }
    }

    @Override
    public void move(String from, String to) throws IOException {
        Path source = resolve(from);
        Path target = resolve(to);
        if (!Files.isRegularFile(source)) {
            throw new ObjectNotFoundException(from, describe());
        }
        try {
            createDirectories(target.getParent());
            Files.move(source, target, StandardCopyOption.ATOMIC_MOVE);
            if (durable) {
                force(target.getParent());
                force(source.getParent());
            }
        } catch (FileAlreadyExistsException e) {
            throw new RepositoryException("moving " + from + " to " + to + " in " + describe() + " failed: the target exists", e);
        } catch (IOException e) {
            throw new RepositoryException("moving " + from + " to " + to + " in " + describe() + " failed: " + CamelDelivery.describe(e), e);
        }
    }

    /** creates missing directories with mode {@value #DIRECTORY_MODE} (mkdir applies the umask, which cannot widen it) */
    private static void createDirectories(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        createDirectories(dir.getParent());
        try {
            Files.createDirectory(dir, posixDirectory());
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(dir)) {
                throw e;
            }
        }
    }

    private static FileAttribute<?>[] posixDirectory() {
        boolean posix = java.nio.file.FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
        return posix ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(DIRECTORY_PERMISSIONS)} : new FileAttribute<?>[0];
    }

    @Override
    public void put(String key, byte[] data) throws IOException {
        // the directory first, race-tolerant: Camel's file producer fails when another process (or another
        // producer in this one) creates the same new directory at the same moment
        createDirectories(resolve(key).getParent());
        delivery.send(key, key, data, Map.of());
        if (durable) {
            Path file = resolve(key);
            syncs.submit(() -> {
                force(file);
                force(file.getParent()); // the rename from the temporary name
                return null;
            });
        }
    }

    @Override
    public void flush() throws IOException {
        if (durable) {
            syncs.await(describe());
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





    /**
     * Writes the object under a temporary name, syncs it, then links it to its key: a link fails if the
     * name exists, so exactly one of any concurrent creators wins, and nobody ever sees a partly written
     * object under the key.
     */
    @Override
    public boolean createExclusive(String key, byte[] data) throws IOException {
        Path target = resolve(key);
        Files.createDirectories(target.getParent());
        Path temp = Files.createTempFile(target.getParent(), TEMP_PREFIX, ".new");
        try {
            Files.write(temp, data);
            force(temp);
            try {
                Files.createLink(target, temp);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                return false;
            } catch (UnsupportedOperationException e) {
                // no hard links here: an exclusive create is still atomic, the content follows it
                try {
                    Files.write(target, data, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                } catch (java.nio.file.FileAlreadyExistsException exists) {
                    return false;
                }
                force(target);
            }
            force(target.getParent());
            return true;
        } finally {
            Files.deleteIfExists(temp);
        }
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
        if (syncs != null) {
            syncs.close();
        }
    }
}
