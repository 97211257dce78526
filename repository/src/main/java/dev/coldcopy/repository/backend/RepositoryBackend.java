package dev.coldcopy.repository.backend;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Object storage under a repository root, keyed by relative paths with '/' separators
 * ({@code config}, {@code chunks/ab/ab12...}, {@code snapshots/vm/disk/ID}). Writes are delivered
 * through a Camel endpoint ({@link #delivery()}); reads may use the component's client directly.
 * Implementations are thread-safe.
 */
public interface RepositoryBackend extends AutoCloseable {

    /** a printable description of where objects go, with no secrets */
    String describe();

    boolean exists(String key) throws IOException;

    /**
     * The stored length of an object and its first {@code bytes} bytes (fewer if it is shorter), in one
     * request where the backend allows; empty if there is no such object. Lets a backup check an object
     * it is about to reuse (a chunk's header states its own length) without reading all of it.
     */
    Optional<ObjectHead> head(String key, int bytes) throws IOException;

    /**
     * Moves an object to another key (both relative to the root), e.g. a damaged chunk into quarantine.
     * The target must not exist.
     *
     * @throws dev.coldcopy.repository.ObjectNotFoundException if there is no object at {@code from}
     */
    void move(String from, String to) throws IOException;

    /** Stores an object, atomically where the backend allows (temporary name, then rename). */
    void put(String key, byte[] data) throws IOException;

    /**
     * Returns once every object put so far is on stable storage, where the backend has to see to that
     * itself (a local file system); an object store has it when the put is acknowledged.
     */
    default void flush() throws IOException {
    }

    /**
     * Creates an object only if there is none under the key: of any number of processes calling this at
     * once, exactly one creates it and the others get false (and then read the winner's object). This is
     * how a repository's config comes into being. The default only looks first, which is NOT atomic:
     * every real backend overrides it.
     *
     * @return true if this call created the object, false if one existed (or another caller won)
     */
    default boolean createExclusive(String key, byte[] data) throws IOException {
        if (exists(key)) {
            return false;
        }
        put(key, data);
        return true;
    }

    /**
     * How long after its creation an object made by {@link #createExclusive} may still be replaced by a
     * concurrent creator's (zero where creation is atomic). A config younger than this is read again
     * after this long before it is trusted.
     */
    default java.time.Duration creationSettleTime() {
        return java.time.Duration.ZERO;
    }

    /** @throws dev.coldcopy.repository.ObjectNotFoundException if there is no such object */
    byte[] get(String key) throws IOException;

    /** every key below the prefix (recursive), in no particular order */
    default List<String> list(String prefix) throws IOException {
        return new ArrayList<>(listSizes(prefix).keySet());
    }

    /** every key below the prefix (recursive) with its stored size in bytes */
    Map<String, Long> listSizes(String prefix) throws IOException;

    /** removes an object; no error if it is absent */
    void delete(String key) throws IOException;

    /** removes objects (no error for absent ones); object stores do it in batches */
    default void deleteAll(List<String> keys) throws IOException {
        for (String key : keys) {
            delete(key);
        }
    }

    /** number of objects this backend instance has written (for statistics and tests) */
    default long putCount() {
        return delivery().puts();
    }

    /** the Camel producer side every write goes through */
    CamelDelivery delivery();

    @Override
    void close();
}
