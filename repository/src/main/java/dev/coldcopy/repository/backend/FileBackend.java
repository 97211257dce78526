package dev.coldcopy.repository.backend;

import dev.coldcopy.repository.ObjectNotFoundException;
import dev.coldcopy.repository.RepositoryException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;

/**
 * A repository in a local directory. Writes go through Camel's {@code file:} endpoint with a temporary
 * name that is renamed when complete ({@code tempPrefix}); reads use the file system directly.
 */
public final class FileBackend implements RepositoryBackend {
    /** prefix of files being written; never a repository object */
    public static final String TEMP_PREFIX = ".tmp-";

    private final Path root;
    private final CamelDelivery delivery;

    public FileBackend(Path root, CamelContext context) throws IOException {
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
    public List<String> list(String prefix) throws IOException {
        Path start = resolve(prefix.isEmpty() ? "." : prefix);
        if (!Files.isDirectory(start)) {
            return List.of();
        }
        List<String> keys = new ArrayList<>();
        try (Stream<Path> files = Files.walk(start)) {
            files.filter(Files::isRegularFile)
                    .filter(p -> !p.getFileName().toString().startsWith(TEMP_PREFIX))
                    .forEach(p -> keys.add(root.relativize(p).toString().replace('\\', '/')));
        } catch (UncheckedIOException e) {
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
    }
}
