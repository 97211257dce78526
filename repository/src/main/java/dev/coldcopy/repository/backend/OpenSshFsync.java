package dev.coldcopy.repository.backend;

import com.jcraft.jsch.ChannelSubsystem;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.Session;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The OpenSSH {@code fsync@openssh.com} SFTP extension, on an SFTP channel of its own: JSch (which
 * camel-ftp writes with) does not offer it. Speaks just enough SFTP version 3 (draft-ietf-secsh-filexfer-02)
 * for it: INIT/VERSION (the server lists its extensions there), OPEN for reading, the EXTENDED request and
 * CLOSE. fsync(2) on any descriptor of a file flushes the file's data, so opening the object read-only
 * after it was written (by another connection) is enough. Requests are pipelined in batches. Not thread-safe.
 */
final class OpenSshFsync implements AutoCloseable {
    static final String EXTENSION = "fsync@openssh.com";
    private static final int SFTP_VERSION = 3;
    private static final int SSH_FXP_INIT = 1;
    private static final int SSH_FXP_VERSION = 2;
    private static final int SSH_FXP_OPEN = 3;
    private static final int SSH_FXP_CLOSE = 4;
    private static final int SSH_FXP_STATUS = 101;
    private static final int SSH_FXP_HANDLE = 102;
    private static final int SSH_FXP_EXTENDED = 200;
    private static final int SSH_FXF_READ = 0x00000001;
    private static final int SSH_FX_OK = 0;
    private static final int SSH_FX_NO_SUCH_FILE = 2;
    /** requests in flight at once: well below OpenSSH's limit on queued requests */
    private static final int BATCH = 64;

    private final ChannelSubsystem channel;
    private final DataInputStream in;
    private final DataOutputStream out;
    private final boolean supported;
    private int nextId = 1;

    /** a failed request: the SFTP status code and the server's message */
    static final class StatusException extends IOException {
        final int code;

        StatusException(String what, int code, String message) {
            super(what + ": " + (message.isEmpty() ? "SFTP status " + code : message));
            this.code = code;
        }
    }

    private OpenSshFsync(ChannelSubsystem channel, DataInputStream in, DataOutputStream out) throws IOException {
        this.channel = channel;
        this.in = in;
        this.out = out;
        out.writeInt(5);
        out.writeByte(SSH_FXP_INIT);
        out.writeInt(SFTP_VERSION);
        out.flush();
        int length = in.readInt();
        if (in.readUnsignedByte() != SSH_FXP_VERSION) {
            throw new IOException("the SFTP server did not answer INIT with VERSION");
        }
        in.readInt(); // the server's version
        int left = length - 5;
        boolean offered = false;
        while (left > 0) {
            byte[] name = readString();
            byte[] data = readString();
            left -= 8 + name.length + data.length;
            offered |= EXTENSION.equals(new String(name, StandardCharsets.UTF_8));
        }
        this.supported = offered;
    }

    /** opens an SFTP channel on the session and reads which extensions the server offers */
    static OpenSshFsync open(Session session, int timeoutMs) throws JSchException, IOException {
        ChannelSubsystem c = (ChannelSubsystem) session.openChannel("subsystem");
        c.setSubsystem("sftp");
        DataInputStream in = new DataInputStream(c.getInputStream());
        DataOutputStream out = new DataOutputStream(c.getOutputStream());
        c.connect(timeoutMs);
        try {
            return new OpenSshFsync(c, in, out);
        } catch (IOException | RuntimeException e) {
            c.disconnect();
            throw e;
        }
    }

    /** whether the server offers fsync@openssh.com */
    boolean supported() {
        return supported;
    }

    boolean isConnected() {
        return channel.isConnected();
    }

    /**
     * fsyncs each file; a path that no longer exists (moved or deleted since it was written) is skipped.
     *
     * @return how many files were synced
     */
    int fsync(List<String> paths) throws IOException {
        int synced = 0;
        for (int from = 0; from < paths.size(); from += BATCH) {
            List<String> batch = paths.subList(from, Math.min(paths.size(), from + BATCH));
            Map<String, byte[]> handles = new HashMap<>();
            Map<Integer, String> opens = new HashMap<>();
            for (String path : batch) {
                opens.put(send(SSH_FXP_OPEN, path.getBytes(StandardCharsets.UTF_8), SSH_FXF_READ), path);
            }
            out.flush();
            IOException failure = null;
            for (int i = 0; i < batch.size(); i++) {
                Reply r = read();
                String path = opens.get(r.id);
                if (r.type == SSH_FXP_HANDLE) {
                    handles.put(path, r.body);
                } else if (r.status != SSH_FX_NO_SUCH_FILE && failure == null) {
                    failure = new StatusException("opening " + path + " to fsync it", r.status, r.message);
                }
            }
            Map<Integer, String> syncs = new HashMap<>();
            for (Map.Entry<String, byte[]> h : handles.entrySet()) {
                syncs.put(send(SSH_FXP_EXTENDED, EXTENSION.getBytes(StandardCharsets.UTF_8), h.getValue()), h.getKey());
            }
            out.flush();
            for (int i = 0; i < syncs.size(); i++) {
                Reply r = read();
                if (r.status == SSH_FX_OK) {
                    synced++;
                } else if (failure == null) {
                    failure = new StatusException("fsync of " + syncs.get(r.id), r.status, r.message);
                }
            }
            for (byte[] handle : handles.values()) {
                send(SSH_FXP_CLOSE, handle);
            }
            out.flush();
            for (int i = 0; i < handles.size(); i++) {
                read(); // a failed close of a read-only handle loses nothing
            }
            if (failure != null) {
                throw failure;
            }
        }
        return synced;
    }

    /** writes one request (strings, then an optional trailing uint32 or empty ATTRS for OPEN); returns its id */
    private int send(int type, byte[] first, Object... rest) throws IOException {
        int id = nextId++;
        List<byte[]> strings = new ArrayList<>();
        strings.add(first);
        Integer flags = null;
        for (Object o : rest) {
            if (o instanceof byte[] b) {
                strings.add(b);
            } else {
                flags = (Integer) o;
            }
        }
        int length = 1 + 4;
        for (byte[] s : strings) {
            length += 4 + s.length;
        }
        if (flags != null) {
            length += 4 + 4; // pflags, then ATTRS with no fields
        }
        out.writeInt(length);
        out.writeByte(type);
        out.writeInt(id);
        for (byte[] s : strings) {
            out.writeInt(s.length);
            out.write(s);
        }
        if (flags != null) {
            out.writeInt(flags);
            out.writeInt(0);
        }
        return id;
    }

    private record Reply(int type, int id, byte[] body, int status, String message) {
    }

    private Reply read() throws IOException {
        int length = in.readInt();
        int type = in.readUnsignedByte();
        int id = in.readInt();
        int left = length - 5;
        if (type == SSH_FXP_HANDLE) {
            byte[] handle = readString();
            skip(left - 4 - handle.length);
            return new Reply(type, id, handle, -1, "");
        }
        if (type == SSH_FXP_STATUS) {
            int code = in.readInt();
            left -= 4;
            String message = "";
            if (left >= 4) {
                byte[] m = readString();
                left -= 4 + m.length;
                message = new String(m, StandardCharsets.UTF_8);
            }
            skip(left);
            return new Reply(type, id, null, code, message);
        }
        skip(left);
        throw new IOException("unexpected SFTP reply type " + type);
    }

    private byte[] readString() throws IOException {
        int n = in.readInt();
        if (n < 0 || n > 1 << 20) {
            throw new IOException("SFTP string of " + n + " bytes");
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }

    private void skip(int n) throws IOException {
        if (n < 0) {
            throw new IOException("malformed SFTP reply");
        }
        in.readFully(new byte[n]);
    }

    @Override
    public void close() {
        channel.disconnect();
    }
}
