package dev.coldcopy.nbd.protocol;

import static dev.coldcopy.nbd.protocol.NbdProtocol.*;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A one-connection fixed-newstyle peer for what no real server can be made to send: structured replies,
 * base:allocation as context 1, GO answered with the given size, flags and (when not null) block sizes;
 * then every request goes to the responder until NBD_CMD_DISC. NBD_OPT_LIST is answered with an export
 * name length of 2^32-1, far beyond the reply.
 */
final class ScriptedNbdServer implements AutoCloseable {
    private static final long U32_MAX = 0xFFFFFFFFL;

    /** What the scripted server answers to one transmission request. */
    @FunctionalInterface
    interface Responder {
        void reply(DataOutputStream out, int command, long cookie, long offset, long length) throws IOException;
    }

    private final ServerSocket socket;

    ScriptedNbdServer(long size, int flags, int[] blockSizes, Responder responder) throws IOException {
        socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Thread thread = new Thread(() -> {
            try (Socket s = socket.accept()) {
                DataInputStream in = new DataInputStream(s.getInputStream());
                DataOutputStream out = new DataOutputStream(s.getOutputStream());
                if (handshake(in, out, size, flags, blockSizes)) {
                    transmission(in, out, responder);
                }
            } catch (IOException e) {
                // the client went away: the test is over
            }
        });
        thread.setDaemon(true);
        thread.start();
    }

    /** Answers options until GO (true) or ABORT (false). */
    private static boolean handshake(DataInputStream in, DataOutputStream out, long size, int flags, int[] blockSizes)
            throws IOException {
        out.writeLong(NBDMAGIC);
        out.writeLong(IHAVEOPT);
        out.writeShort(NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
        out.flush();
        in.readInt();
        while (true) {
            in.readLong();
            int option = in.readInt();
            in.readFully(new byte[in.readInt()]);
            if (option == NBD_OPT_SET_META_CONTEXT) {
                byte[] name = MetaContexts.BASE_ALLOCATION.getBytes(StandardCharsets.UTF_8);
                reply(out, option, NBD_REP_META_CONTEXT, 4 + name.length);
                out.writeInt(1);
                out.write(name);
            }
            if (option == NBD_OPT_LIST) {
                reply(out, option, NBD_REP_SERVER, 5);
                out.writeInt((int) U32_MAX);
                out.writeByte('x');
            }
            if (option == NBD_OPT_GO || option == NBD_OPT_INFO) {
                reply(out, option, NBD_REP_INFO, 12);
                out.writeShort(NBD_INFO_EXPORT);
                out.writeLong(size);
                out.writeShort(flags);
                if (blockSizes != null) {
                    reply(out, option, NBD_REP_INFO, 14);
                    out.writeShort(NBD_INFO_BLOCK_SIZE);
                    for (int b : blockSizes) {
                        out.writeInt(b);
                    }
                }
            }
            reply(out, option, NBD_REP_ACK, 0);
            out.flush();
            if (option == NBD_OPT_GO) {
                return true;
            }
            if (option == NBD_OPT_ABORT) {
                return false;
            }
        }
    }

    private static void transmission(DataInputStream in, DataOutputStream out, Responder responder) throws IOException {
        while (true) {
            try {
                in.readInt();
            } catch (EOFException e) {
                return;
            }
            in.readShort();
            int command = in.readShort() & 0xffff;
            long cookie = in.readLong();
            long offset = in.readLong();
            long length = in.readInt() & U32_MAX;
            if (command == NBD_CMD_DISC) {
                return;
            }
            if (command == NBD_CMD_WRITE) {
                in.readFully(new byte[(int) length]);
            }
            responder.reply(out, command, cookie, offset, length);
            out.flush();
        }
    }

    private static void reply(DataOutputStream out, int option, int type, int length) throws IOException {
        out.writeLong(NBD_REP_MAGIC);
        out.writeInt(option);
        out.writeInt(type);
        out.writeInt(length);
    }

    /** The header of a structured reply chunk; the payload of {@code length} bytes follows. */
    static void chunk(DataOutputStream out, int flags, int type, long cookie, long length) throws IOException {
        out.writeInt(NBD_STRUCTURED_REPLY_MAGIC);
        out.writeShort(flags);
        out.writeShort(type);
        out.writeLong(cookie);
        out.writeInt((int) length);
    }

    NbdUri uri() {
        return NbdUri.tcp("127.0.0.1", socket.getLocalPort(), "x");
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
