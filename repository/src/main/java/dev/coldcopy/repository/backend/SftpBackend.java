package dev.coldcopy.repository.backend;

import com.jcraft.jsch.ChannelSftp;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.Session;
import com.jcraft.jsch.SftpATTRS;
import com.jcraft.jsch.SftpException;
import dev.coldcopy.repository.ObjectNotFoundException;
import dev.coldcopy.repository.RepositoryException;
import dev.coldcopy.repository.RepositoryKeys;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Vector;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A repository in a directory on an SFTP server. Writes go through Camel's {@code sftp:} endpoint with a
 * temporary name renamed when complete; reads, stat and listing use JSch (the library camel-ftp uses)
 * directly. Authentication by private key only; the server's host key must be in the known_hosts file
 * unless strict checking was switched off.
 *
 * <p>The repository path is absolute on the server ({@code sftp://u@h/srv/repo} is {@code /srv/repo}, not
 * {@code ~/srv/repo}) for every operation: camel-ftp strips the leading slash of an endpoint's directory
 * and would write relative to the login directory, so the endpoint has no directory and every write
 * names the object's absolute path in the file name header. Objects are fsynced with
 * {@code fsync@openssh.com} where the server offers it, in the background as they are written;
 * {@link #flush} waits for that. Objects are created mode 600 and directories
 * 700 (chmod after creation; URI parameter {@code chmod=false} for a server that refuses it).
 */
public final class SftpBackend implements RepositoryBackend {
    private static final Logger LOG = LoggerFactory.getLogger(SftpBackend.class);
    private static final int CONNECT_TIMEOUT_MS = 10_000;
    private static final int IO_TIMEOUT_MS = 60_000;
    /** owner-only modes, as with file repositories, where the server allows chmod */
    private static final int DIRECTORY_MODE = 0700;
    /** objects per batch handed to the fsync thread */
    private static final int SYNC_BATCH = 32;

    private final RepositoryUri uri;
    private final String root; // absolute, no trailing slash ("" for /)
    private final String description;
    private final CamelDelivery delivery;
    private final JSch jsch = new JSch();
    private final Object sessionLock = new Object();
    private final Deque<ChannelSftp> idle = new ArrayDeque<>();
    private final Object putLock = new Object();
    private final boolean strict;
    private final boolean durable;
    private final boolean chmod;
    private Session session;
    /**
     * Objects written but not yet handed to the fsync thread, the batches it has in hand, and its SFTP
     * channel: fsyncs run on one background thread in batches as objects are written, so the server's
     * disk writes overlap the reading of the next chunks, and {@link #flush} waits for the rest.
     */
    private final List<String> unsynced = new ArrayList<>();
    private final Object syncLock = new Object();
    private final BackgroundSyncs syncs;
    private final Object fsyncLock = new Object();
    private OpenSshFsync fsync;
    private boolean fsyncWarned;
    private final AtomicLong synced = new AtomicLong();

    public SftpBackend(RepositoryUri uri, RepositoryOptions options, CamelContext context) throws RepositoryException {
        this.uri = uri;
        this.root = uri.path().equals("/") ? "" : uri.path();
        this.durable = options.durableWrites();
        this.syncs = durable ? new BackgroundSyncs(1, "coldcopy-sftp-fsync") : null;
        // a server that refuses SETSTAT would fail every upload: ?chmod=false leaves modes to the server
        this.chmod = uri.param("chmod").map(v -> !v.equalsIgnoreCase("false") && !v.equalsIgnoreCase("no")).orElse(true);
        int port = uri.port() > 0 ? uri.port() : 22;
        this.description = "sftp://" + uri.user() + "@" + uri.host() + ":" + port + uri.path();
        Path key = options.sftpPrivateKeyFile().or(() -> uri.param("privateKeyFile").map(Path::of))
                .orElseThrow(() -> new RepositoryException("sftp repository " + description + " needs a private key file (option sftpPrivateKeyFile or URI parameter privateKeyFile)"));
        this.strict = uri.param("strictHostKeyChecking").map(v -> !v.equalsIgnoreCase("no") && !v.equalsIgnoreCase("false"))
                .orElse(options.sftpStrictHostKeyChecking());
        Path knownHosts = options.sftpKnownHostsFile().or(() -> uri.param("knownHostsFile").map(Path::of))
                .orElse(Path.of(System.getProperty("user.home"), ".ssh", "known_hosts"));
        if (!Files.isReadable(key)) {
            throw new RepositoryException("sftp private key file " + key + " is not readable");
        }
        RepositoryKeys.exposure(key, "can log in to " + description).ifPresent(LOG::warn);
        if (strict && !Files.isReadable(knownHosts)) {
            throw new RepositoryException("sftp known_hosts file " + knownHosts + " is not readable (host keys are checked by default)");
        }
        try {
            jsch.addIdentity(key.toString());
            if (Files.isReadable(knownHosts)) {
                jsch.setKnownHosts(knownHosts.toString());
            }
        } catch (JSchException e) {
            throw new RepositoryException("sftp key setup for " + description + " failed: " + e.getMessage(), e);
        }
        String endpoint = "sftp://" + uri.user() + "@" + uri.host() + ":" + port
                + "?privateKeyFile=" + key.toAbsolutePath()
                + "&knownHostsFile=" + knownHosts.toAbsolutePath()
                + "&useUserKnownHostsFile=false"
                + "&strictHostKeyChecking=" + (strict ? "yes" : "no")
                + "&tempPrefix=" + FileBackend.TEMP_PREFIX
                + "&fileExist=Override&autoCreate=true&binary=true&stepwise=false&disconnect=false"
                + (chmod ? "&chmod=" + FileBackend.OBJECT_MODE + "&chmodDirectory=" + FileBackend.DIRECTORY_MODE : "")
                + "&connectTimeout=" + CONNECT_TIMEOUT_MS + "&soTimeout=" + IO_TIMEOUT_MS
                + "&maximumReconnectAttempts=1&reconnectDelay=500";
        this.delivery = new CamelDelivery(context, endpoint, Exchange.FILE_NAME);
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public boolean exists(String key) throws IOException {
        return withChannel("checking " + key, c -> {
            try {
                return !c.stat(path(key)).isDir();
            } catch (SftpException e) {
                if (e.id == ChannelSftp.SSH_FX_NO_SUCH_FILE) {
                    return false;
                }
                throw e;
            }
        });
    }

    @Override
    public Optional<ObjectHead> head(String key, int bytes) throws IOException {
        return withChannel("checking " + key, c -> {
            SftpATTRS attrs;
            try {
                attrs = c.stat(path(key));
            } catch (SftpException e) {
                if (e.id == ChannelSftp.SSH_FX_NO_SUCH_FILE) {
                    return Optional.empty();
                }
                throw e;
            }
            if (attrs.isDir()) {
                return Optional.empty();
            }
            byte[] start = new byte[(int) Math.min(bytes, attrs.getSize())];
            int n = 0;
            try (InputStream in = c.get(path(key))) {
                while (n < start.length) {
                    int r = in.read(start, n, start.length - n);
                    if (r < 0) {
                        break;
                    }
                    n += r;
                }
            }
            return Optional.of(new ObjectHead(attrs.getSize(), n == start.length ? start : Arrays.copyOf(start, n)));
        });
    }

    @Override
    public void move(String from, String to) throws IOException {
        withChannel("moving " + from + " to " + to, c -> {
            try {
                c.stat(path(from));
            } catch (SftpException e) {
                if (e.id == ChannelSftp.SSH_FX_NO_SUCH_FILE) {
                    throw new ObjectNotFoundException(from, description);
                }
                throw e;
            }
            mkdirs(c, parent(to));
            c.rename(path(from), path(to)); // SSH_FXP_RENAME: fails when the target exists
            return null;
        });
    }

    /** creates the directories of a key's parent that are missing, owner-only where the server lets us */
    private void mkdirs(ChannelSftp c, String dirKey) throws SftpException {
        if (dirKey.isEmpty()) {
            return;
        }
        try {
            if (c.stat(path(dirKey)).isDir()) {
                return;
            }
        } catch (SftpException e) {
            if (e.id != ChannelSftp.SSH_FX_NO_SUCH_FILE) {
                throw e;
            }
        }
        mkdirs(c, parent(dirKey));
        try {
            c.mkdir(path(dirKey));
        } catch (SftpException e) {
            if (!isDirectory(c, dirKey)) { // else another thread made it meanwhile (servers differ in the status they send)
                throw e;
            }
            return;
        }
        if (chmod) {
            c.chmod(DIRECTORY_MODE, path(dirKey));
        }
    }

    private boolean isDirectory(ChannelSftp c, String dirKey) {
        try {
            return c.stat(path(dirKey)).isDir();
        } catch (SftpException e) {
            return false;
        }
    }

    private static String parent(String key) {
        int slash = key.lastIndexOf('/');
        return slash < 0 ? "" : key.substring(0, slash);
    }

    @Override
    public void put(String key, byte[] data) throws IOException {
        // one Camel SFTP producer holds one connection; serialise its use
        synchronized (putLock) {
            delivery.send(key, path(key), data, Map.of());
        }
        if (durable) {
            synchronized (syncLock) {
                unsynced.add(path(key));
                if (unsynced.size() >= SYNC_BATCH) {
                    submitUnsynced();
                }
            }
        }
    }

    /** hands the objects written so far to the fsync thread; call with syncLock held */
    private void submitUnsynced() {
        List<String> batch = new ArrayList<>(unsynced);
        unsynced.clear();
        syncs.submit(() -> {
            syncBatch(batch);
            return null;
        });
    }

    /**
     * Returns once every object written so far is fsynced with {@code fsync@openssh.com}, when the server
     * offers it (OpenSSH does): their data is then on the server's disk. A server without the extension
     * gets one warning; its objects are then as durable as the server makes them on its own.
     */
    @Override
    public void flush() throws IOException {
        if (!durable) {
            return;
        }
        synchronized (syncLock) {
            if (!unsynced.isEmpty()) {
                submitUnsynced();
            }
        }
        syncs.await(description);
    }

    /** runs on the fsync thread only */
    private void syncBatch(List<String> paths) throws RepositoryException {
        synchronized (fsyncLock) {
            try {
                if (fsync == null || !fsync.isConnected()) {
                    closeFsync();
                    fsync = OpenSshFsync.open(session(), CONNECT_TIMEOUT_MS);
                }
                if (!fsync.supported()) {
                    if (!fsyncWarned) {
                        fsyncWarned = true;
                        LOG.warn("{} does not offer {}: objects are not synced to the server's disk before the manifest",
                                description, OpenSshFsync.EXTENSION);
                    }
                    return;
                }
                synced.addAndGet(fsync.fsync(paths));
            } catch (JSchException | IOException e) {
                closeFsync();
                throw new RepositoryException("syncing objects to disk in " + description + " failed: " + e.getMessage(), e);
            }
        }
    }

    /** objects fsynced on the server so far (for tests) */
    public long syncCount() {
        return synced.get();
    }

    private void closeFsync() {
        if (fsync != null) {
            fsync.close();
            fsync = null;
        }
    }

    @Override
    public byte[] get(String key) throws IOException {
        return withChannel("reading " + key, c -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try {
                c.get(path(key), out);
            } catch (SftpException e) {
                if (e.id == ChannelSftp.SSH_FX_NO_SUCH_FILE) {
                    throw new ObjectNotFoundException(key, description);
                }
                throw e;
            }
            return out.toByteArray();
        });
    }

    @Override
    public Map<String, Long> listSizes(String prefix) throws IOException {
        return withChannel("listing " + prefix, c -> {
            Map<String, Long> keys = new HashMap<>();
            String dir = prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix;
            walk(c, dir, keys);
            return keys;
        });
    }

    private void walk(ChannelSftp c, String dir, Map<String, Long> keys) throws SftpException {
        Vector<ChannelSftp.LsEntry> entries;
        try {
            entries = c.ls(dir.isEmpty() ? path(".") : path(dir));
        } catch (SftpException e) {
            if (e.id == ChannelSftp.SSH_FX_NO_SUCH_FILE) {
                return;
            }
            throw e;
        }
        for (ChannelSftp.LsEntry e : entries) {
            String name = e.getFilename();
            if (name.equals(".") || name.equals("..") || name.startsWith(FileBackend.TEMP_PREFIX)) {
                continue;
            }
            String key = dir.isEmpty() ? name : dir + "/" + name;
            if (e.getAttrs().isDir()) {
                walk(c, key, keys);
            } else {
                keys.put(key, e.getAttrs().getSize());
            }
        }
    }

    @Override
    public void delete(String key) throws IOException {
        withChannel("deleting " + key, c -> {
            try {
                c.rm(path(key));
            } catch (SftpException e) {
                if (e.id != ChannelSftp.SSH_FX_NO_SUCH_FILE) {
                    throw e;
                }
            }
            return null;
        });
    }





    /**
     * Uploads under a temporary name, then links it to its key with the server's {@code hardlink@openssh.com}
     * (which fails if the name exists: exactly one concurrent creator wins; a rename would overwrite on
     * servers that do POSIX rename). Without that extension, a directory created next to the key is the
     * lock (mkdir is atomic and fails if it exists); the winner then renames its object into place.
     */
    @Override
    public boolean createExclusive(String key, byte[] data) throws IOException {
        String temp = FileBackend.TEMP_PREFIX + java.util.UUID.randomUUID();
        return withChannel("creating " + key, c -> {
            mkdirsAbsolute(c, root, chmod);
            c.put(new java.io.ByteArrayInputStream(data), path(temp));
            if (chmod) {
                c.chmod(Integer.parseInt(FileBackend.OBJECT_MODE, 8), path(temp)); // before it gets its name
            }
            if (durable) {
                synchronized (syncLock) {
                    unsynced.add(path(key)); // fsynced with the next flush, like every object
                }
            }
            try {
                try {
                    c.hardlink(path(temp), path(key));
                    return true;
                } catch (SftpException e) {
                    if (e.id != ChannelSftp.SSH_FX_OP_UNSUPPORTED && !String.valueOf(e.getMessage()).contains("not supported")) {
                        if (exists(c, key)) {
                            return false;
                        }
                        throw e;
                    }
                }
                try {
                    c.mkdir(path(key + ".lock"));
                } catch (SftpException e) {
                    return false; // another process holds the lock: it creates the object
                }
                try {
                    if (exists(c, key)) {
                        return false;
                    }
                    c.rename(path(temp), path(key));
                    return true;
                } finally {
                    // once the object is there the lock is not needed: a later creator finds the object
                    try {
                        c.rmdir(path(key + ".lock"));
                    } catch (SftpException e) {
                        // left behind; harmless (the object exists)
                    }
                }
            } finally {
                try {
                    c.rm(path(temp));
                } catch (SftpException e) {
                    // renamed, or gone
                }
            }
        });
    }

    private boolean exists(ChannelSftp c, String key) throws SftpException {
        try {
            c.stat(path(key));
            return true;
        } catch (SftpException e) {
            if (e.id == ChannelSftp.SSH_FX_NO_SUCH_FILE) {
                return false;
            }
            throw e;
        }
    }

    /** creates an absolute directory path and its missing parents (owner-only with chmod) */
    private static void mkdirsAbsolute(ChannelSftp c, String dir, boolean chmod) throws SftpException {
        StringBuilder at = new StringBuilder();
        for (String part : dir.split("/")) {
            if (part.isEmpty()) {
                continue;
            }
            at.append('/').append(part);
            try {
                c.stat(at.toString());
            } catch (SftpException e) {
                if (e.id != ChannelSftp.SSH_FX_NO_SUCH_FILE) {
                    throw e;
                }
                try {
                    c.mkdir(at.toString());
                    if (chmod) {
                        c.chmod(DIRECTORY_MODE, at.toString());
                    }
                } catch (SftpException raced) {
                    c.stat(at.toString()); // created by someone else meanwhile is fine
                }
            }
        }
    }

    private String path(String key) {
        if (key.equals(".")) {
            return root.isEmpty() ? "/" : root;
        }
        return root + "/" + key;
    }

    private interface SftpCall<T> {
        T call(ChannelSftp channel) throws SftpException, IOException;
    }

    /** runs a call on an idle channel (several may run at once: one session, many channels) */
    private <T> T withChannel(String what, SftpCall<T> call) throws IOException {
        ChannelSftp c;
        try {
            c = acquire();
        } catch (JSchException e) {
            throw new RepositoryException(what + " in " + description + " failed: cannot connect: " + e.getMessage(), e);
        }
        boolean healthy = true;
        try {
            return call.call(c);
        } catch (SftpException e) {
            healthy = c.isConnected();
            throw new RepositoryException(what + " in " + description + " failed: " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            healthy = c.isConnected() && e instanceof ObjectNotFoundException;
            throw e;
        } finally {
            release(c, healthy);
        }
    }

    private ChannelSftp acquire() throws JSchException {
        synchronized (sessionLock) {
            while (!idle.isEmpty()) {
                ChannelSftp c = idle.pop();
                if (c.isConnected()) {
                    return c;
                }
            }
            ChannelSftp c = (ChannelSftp) session().openChannel("sftp");
            c.connect(CONNECT_TIMEOUT_MS);
            return c;
        }
    }

    /** the connected session reads, stat, listing and fsync share */
    private Session session() throws JSchException {
        synchronized (sessionLock) {
            if (session == null || !session.isConnected()) {
                int port = uri.port() > 0 ? uri.port() : 22;
                session = jsch.getSession(uri.user(), uri.host(), port);
                session.setConfig("StrictHostKeyChecking", strict ? "yes" : "no");
                session.setConfig("PreferredAuthentications", "publickey");
                session.setTimeout(IO_TIMEOUT_MS);
                session.connect(CONNECT_TIMEOUT_MS);
            }
            return session;
        }
    }

    private void release(ChannelSftp c, boolean healthy) {
        synchronized (sessionLock) {
            if (healthy && c.isConnected() && idle.size() < 8) {
                idle.push(c);
            } else {
                c.disconnect();
            }
        }
    }

    @Override
    public CamelDelivery delivery() {
        return delivery;
    }

    @Override
    public void close() {
        if (syncs != null) {
            syncs.close();
        }
        synchronized (fsyncLock) {
            closeFsync();
        }
        synchronized (sessionLock) {
            idle.forEach(ChannelSftp::disconnect);
            idle.clear();
            if (session != null) {
                session.disconnect();
                session = null;
            }
        }
        delivery.close();
    }
}
