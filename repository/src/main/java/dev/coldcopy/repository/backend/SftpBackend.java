package dev.coldcopy.repository.backend;

import com.jcraft.jsch.ChannelSftp;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.Session;
import com.jcraft.jsch.SftpException;
import dev.coldcopy.repository.ObjectNotFoundException;
import dev.coldcopy.repository.RepositoryException;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Vector;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;

/**
 * A repository in a directory on an SFTP server. Writes go through Camel's {@code sftp:} endpoint with a
 * temporary name renamed when complete; reads, stat and listing use JSch (the library camel-ftp uses)
 * directly. Authentication by private key only; the server's host key must be in the known_hosts file
 * unless strict checking was switched off. The repository path is absolute on the server.
 */
public final class SftpBackend implements RepositoryBackend {
    private static final int CONNECT_TIMEOUT_MS = 10_000;
    private static final int IO_TIMEOUT_MS = 60_000;

    private final RepositoryUri uri;
    private final String root; // absolute, no trailing slash ("" for /)
    private final String description;
    private final CamelDelivery delivery;
    private final JSch jsch = new JSch();
    private final Object sessionLock = new Object();
    private final Deque<ChannelSftp> idle = new ArrayDeque<>();
    private final Object putLock = new Object();
    private final boolean strict;
    private Session session;

    public SftpBackend(RepositoryUri uri, RepositoryOptions options, CamelContext context) throws RepositoryException {
        this.uri = uri;
        this.root = uri.path().equals("/") ? "" : uri.path();
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
        String endpoint = "sftp://" + uri.user() + "@" + uri.host() + ":" + port + "/" + root
                + "?privateKeyFile=" + key.toAbsolutePath()
                + "&knownHostsFile=" + knownHosts.toAbsolutePath()
                + "&useUserKnownHostsFile=false"
                + "&strictHostKeyChecking=" + (strict ? "yes" : "no")
                + "&tempPrefix=" + FileBackend.TEMP_PREFIX
                + "&fileExist=Override&autoCreate=true&binary=true&stepwise=false&disconnect=false"
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
    public void put(String key, byte[] data) throws IOException {
        // one Camel SFTP producer holds one connection; serialise its use
        synchronized (putLock) {
            delivery.send(key, key, data, Map.of());
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
            if (session == null || !session.isConnected()) {
                int port = uri.port() > 0 ? uri.port() : 22;
                session = jsch.getSession(uri.user(), uri.host(), port);
                session.setConfig("StrictHostKeyChecking", strict ? "yes" : "no");
                session.setConfig("PreferredAuthentications", "publickey");
                session.setTimeout(IO_TIMEOUT_MS);
                session.connect(CONNECT_TIMEOUT_MS);
            }
            ChannelSftp c = (ChannelSftp) session.openChannel("sftp");
            c.connect(CONNECT_TIMEOUT_MS);
            return c;
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
