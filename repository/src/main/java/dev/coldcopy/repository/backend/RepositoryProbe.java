package dev.coldcopy.repository.backend;

import dev.coldcopy.repository.ObjectNotFoundException;
import dev.coldcopy.repository.RepositoryException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Before a process first writes to a repository, proves the store keeps what it is given: writes a probe
 * object (random bytes, larger than one aws-chunked frame), reads it back byte for byte, finds it in a
 * listing and deletes it. A store that answers every call with success but keeps something else (the
 * upload's aws-chunked framing, a rewritten body) is refused here, with the likely cause and the setting
 * to change, instead of after a backup that can never be restored. Once per repository per process.
 */
public final class RepositoryProbe {
    /** where probe objects live (never a chunk, manifest or config key) */
    public static final String PREFIX = "probes/";
    /** over 64 KiB, the SDK's aws-chunked frame, and not a round number */
    private static final int SIZE = 70_001;
    private static final Set<String> PROBED = ConcurrentHashMap.newKeySet();

    private RepositoryProbe() {
    }

    /** probes unless this process has already probed the store this backend describes */
    public static void once(RepositoryBackend backend) throws IOException {
        String where = backend.describe();
        if (PROBED.contains(where)) {
            return;
        }
        check(backend);
        PROBED.add(where);
    }

    /** writes, reads back, lists and deletes one probe object; throws with a one-line reason if anything differs */
    public static void check(RepositoryBackend backend) throws IOException {
        byte[] body = new byte[SIZE];
        new SecureRandom().nextBytes(body);
        byte[] id = new byte[8];
        new SecureRandom().nextBytes(id);
        String key = PREFIX + HexFormat.of().formatHex(id);
        try {
            try {
                backend.put(key, body);
            } catch (RepositoryException e) {
                throw refused(backend, "writing a test object failed: " + e.getMessage(), e);
            }
            backend.flush();
            byte[] back;
            try {
                back = backend.get(key);
            } catch (ObjectNotFoundException e) {
                throw refused(backend, "a test object it acknowledged cannot be read back (" + e.getMessage() + ")", e);
            }
            if (!Arrays.equals(body, back)) {
                throw refused(backend, "a test object of " + body.length + " bytes reads back as " + back.length
                        + " different bytes: " + cause(back));
            }
            if (!listed(backend, key)) {
                throw refused(backend, "a test object it stored is missing from its listing of " + PREFIX);
            }
        } finally {
            try {
                backend.delete(key);
            } catch (IOException | RuntimeException e) {
                // the refusal (or success) matters more than a leftover probe object
            }
        }
    }

    /**
     * Whether the key shows in a listing of the probe prefix. Other processes probing the same store at
     * the same moment delete their probe objects while the listing walks: a listing that trips over one
     * of those is tried again.
     */
    private static boolean listed(RepositoryBackend backend, String key) throws IOException {
        IOException failure = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            try {
                List<String> listed = backend.list(PREFIX);
                if (listed.contains(key)) {
                    return true;
                }
                failure = null;
            } catch (IOException | java.io.UncheckedIOException e) {
                failure = e instanceof IOException io ? io : ((java.io.UncheckedIOException) e).getCause();
            }
            try {
                Thread.sleep(50L << attempt);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RepositoryException("interrupted while listing " + PREFIX + " in " + backend.describe());
            }
        }
        if (failure != null) {
            throw failure;
        }
        return false;
    }

    /** the likely cause of a mangled read-back, for the one-line reason */
    private static String cause(byte[] back) {
        String head = new String(back, 0, Math.min(back.length, 200), StandardCharsets.ISO_8859_1);
        if (head.matches("(?s)^[0-9a-fA-F]+;chunk-signature=.*") || head.matches("(?s)^[0-9a-fA-F]+\r\n.*")
                || new String(back, Math.max(0, back.length - 200), Math.min(back.length, 200), StandardCharsets.ISO_8859_1)
                .contains("x-amz-checksum")) {
            return "the store kept the aws-chunked upload framing instead of decoding it; "
                    + S3Settings.conservativeHint();
        }
        return "the store (or something between) changes uploads; for S3-compatible stores "
                + S3Settings.conservativeHint();
    }

    private static RepositoryException refused(RepositoryBackend backend, String why) {
        return refused(backend, why, null);
    }

    private static RepositoryException refused(RepositoryBackend backend, String why, Throwable cause) {
        String message = "refusing " + backend.describe() + ": " + why;
        return cause == null ? new RepositoryException(message) : new RepositoryException(message, cause);
    }
}
