package dev.coldcopy.serve;

import static dev.coldcopy.nbd.protocol.NbdProtocol.*;

import dev.coldcopy.nbd.protocol.MetaContexts;
import dev.coldcopy.nbd.protocol.NbdProtocol;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client of the read-only server: the fixed newstyle handshake, then requests answered one after the
 * other. Protocol violations end the connection; failed reads answer EIO and the connection stays up.
 */
final class ServerConnection implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(ServerConnection.class);

    static final int MIN_BLOCK = 1;
    static final int PREFERRED_BLOCK = 4096;
    static final int MAX_BLOCK = 32 * 1024 * 1024;
    /** options carry names and queries; anything larger is not a client we talk to */
    private static final int MAX_OPTION_LENGTH = 64 * 1024;
    private static final int BASE_ALLOCATION_ID = 1;
    /** a block status descriptor's length is 32 bits; stay block-aligned below that */
    private static final long MAX_DESCRIPTOR = 0x8000_0000L;

    /** how far from the previous read's end a read may start and still count as reading front to back */
    private static final long SEQUENTIAL_WINDOW = 8L * 1024 * 1024;

    private final ServedExport export;
    private final ServerTls tls; // null: plain only
    private final String peer;
    private ServerWire wire;
    private boolean encrypted;
    private boolean structured;
    private boolean noZeroes;
    private boolean baseAllocation;
    private long lastReadEnd; // 0: a first read near the start counts as sequential

    ServerConnection(ServerWire.Plain wire, ServedExport export, ServerTls tls, String peer) {
        this.wire = wire;
        this.export = export;
        this.tls = tls;
        this.peer = peer;
    }

    @Override
    public void run() {
        try {
            if (handshake()) {
                LOG.info("{}: serving {} ({}structured replies{}{})", peer, export.name(), structured ? "" : "no ",
                        baseAllocation ? ", base:allocation" : "", encrypted ? ", TLS" : "");
                transmission();
            }
        } catch (EOFException e) {
            LOG.info("{}: client went away", peer);
        } catch (IOException e) {
            LOG.info("{}: connection ended: {}", peer, e.getMessage());
        } catch (RuntimeException e) {
            LOG.warn("{}: connection ended by an unexpected error", peer, e);
        } finally {
            wire.close();
        }
    }

    // ---------------------------------------------------------------- handshake

    /** true when the client entered transmission, false when it aborted */
    private boolean handshake() throws IOException {
        ByteBuffer hello = ByteBuffer.allocate(18);
        hello.putLong(NBDMAGIC).putLong(IHAVEOPT).putShort((short) (NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES)).flip();
        write(hello);
        int clientFlags = read(4).getInt();
        noZeroes = (clientFlags & NBD_FLAG_C_NO_ZEROES) != 0;
        if ((clientFlags & ~(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)) != 0) {
            throw new IOException("client sent unknown handshake flags 0x" + Integer.toHexString(clientFlags));
        }
        while (true) {
            ByteBuffer head = read(16);
            if (head.getLong() != IHAVEOPT) {
                throw new IOException("client option without IHAVEOPT magic");
            }
            int option = head.getInt();
            int length = head.getInt();
            if (length < 0 || length > MAX_OPTION_LENGTH) {
                throw new IOException("client sent " + NbdProtocol.optionName(option) + " of " + Integer.toUnsignedString(length) + " bytes");
            }
            ByteBuffer data = read(length);
            if (refusedBeforeTls(option)) {
                continue;
            }
            switch (option) {
                case NBD_OPT_EXPORT_NAME -> {
                    String name = string(data, length);
                    if (!export.answersTo(name)) {
                        throw new IOException("client asked for unknown export '" + name + "'");
                    }
                    ByteBuffer reply = ByteBuffer.allocate(10 + (noZeroes ? 0 : 124));
                    reply.putLong(export.image().size()).putShort((short) transmissionFlags());
                    write(reply.position(reply.capacity()).flip());
                    return true;
                }
                case NBD_OPT_ABORT -> {
                    reply(option, NBD_REP_ACK, null);
                    return false;
                }
                case NBD_OPT_STARTTLS -> startTls(option, length);
                case NBD_OPT_LIST -> list(option, length);
                case NBD_OPT_STRUCTURED_REPLY -> {
                    if (length != 0) {
                        error(option, NBD_REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY carries no data");
                    } else {
                        structured = true;
                        reply(option, NBD_REP_ACK, null);
                    }
                }
                case NBD_OPT_INFO, NBD_OPT_GO -> {
                    if (info(option, data) && option == NBD_OPT_GO) {
                        return true;
                    }
                }
                case NBD_OPT_LIST_META_CONTEXT, NBD_OPT_SET_META_CONTEXT -> metaContext(option, data);
                default -> error(option, NBD_REP_ERR_UNSUP, NbdProtocol.optionName(option) + " is not supported by this server");
            }
        }
    }

    /**
     * A TLS-only server answers every option but STARTTLS and ABORT with NBD_REP_ERR_TLS_REQD until TLS is
     * on, so nothing about the export (not even its name) crosses the network in the clear. EXPORT_NAME
     * has no error reply: the connection ends.
     */
    private boolean refusedBeforeTls(int option) throws IOException {
        if (tls == null || encrypted || option == NBD_OPT_STARTTLS || option == NBD_OPT_ABORT) {
            return false;
        }
        if (option == NBD_OPT_EXPORT_NAME) {
            throw new IOException("client asked for the export without starting TLS, and this server is TLS-only");
        }
        error(option, NBD_REP_ERR_TLS_REQD, "this server is TLS-only: send NBD_OPT_STARTTLS first");
        return true;
    }

    private void startTls(int option, int length) throws IOException {
        if (tls == null) {
            error(option, NBD_REP_ERR_UNSUP, "this server has no TLS certificate (serve --tls-cert/--tls-key)");
        } else if (encrypted) {
            error(option, NBD_REP_ERR_INVALID, "TLS is on already");
        } else if (length != 0) {
            error(option, NBD_REP_ERR_INVALID, "NBD_OPT_STARTTLS carries no data");
        } else {
            reply(option, NBD_REP_ACK, null);
            // a failed handshake ends the connection; what the client sent is not worth more than a log line
            wire = tls.upgrade((ServerWire.Plain) wire);
            encrypted = true;
        }
    }

    private int transmissionFlags() {
        int flags = NBD_FLAG_HAS_FLAGS | NBD_FLAG_READ_ONLY | NBD_FLAG_SEND_FLUSH | NBD_FLAG_CAN_MULTI_CONN;
        if (structured) {
            flags |= NBD_FLAG_SEND_DF;
        }
        return flags;
    }

    private void list(int option, int length) throws IOException {
        if (length != 0) {
            error(option, NBD_REP_ERR_INVALID, "NBD_OPT_LIST carries no data");
            return;
        }
        byte[] name = export.name().getBytes(StandardCharsets.UTF_8);
        byte[] description = export.description().getBytes(StandardCharsets.UTF_8);
        ByteBuffer server = ByteBuffer.allocate(4 + name.length + description.length);
        server.putInt(name.length).put(name).put(description).flip();
        reply(option, NBD_REP_SERVER, server);
        reply(option, NBD_REP_ACK, null);
    }

    /** NBD_OPT_INFO / NBD_OPT_GO; true when the export was found and described */
    private boolean info(int option, ByteBuffer data) throws IOException {
        if (data.remaining() < 6) {
            error(option, NBD_REP_ERR_INVALID, "option too short");
            return false;
        }
        int nameLength = data.getInt();
        if (nameLength < 0 || nameLength > data.remaining() - 2) {
            error(option, NBD_REP_ERR_INVALID, "export name length beyond the option");
            return false;
        }
        String name = string(data, nameLength);
        int requests = Short.toUnsignedInt(data.getShort());
        if (data.remaining() != requests * 2) {
            error(option, NBD_REP_ERR_INVALID, "information requests do not match their count");
            return false;
        }
        if (!export.answersTo(name)) {
            error(option, NBD_REP_ERR_UNKNOWN, "no export '" + name + "' here; this server exports '" + export.name() + "'");
            return false;
        }
        ByteBuffer exportInfo = ByteBuffer.allocate(12);
        exportInfo.putShort((short) NBD_INFO_EXPORT).putLong(export.image().size()).putShort((short) transmissionFlags()).flip();
        reply(option, NBD_REP_INFO, exportInfo);
        for (int i = 0; i < requests; i++) {
            int type = Short.toUnsignedInt(data.getShort());
            String text = switch (type) {
                case NBD_INFO_NAME -> export.name();
                case NBD_INFO_DESCRIPTION -> export.description();
                default -> null;
            };
            if (text != null) {
                byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
                ByteBuffer b = ByteBuffer.allocate(2 + bytes.length);
                b.putShort((short) type).put(bytes).flip();
                reply(option, NBD_REP_INFO, b);
            }
        }
        // always sent: clients that did not ask still learn the sizes we prefer
        ByteBuffer sizes = ByteBuffer.allocate(14);
        sizes.putShort((short) NBD_INFO_BLOCK_SIZE).putInt(MIN_BLOCK).putInt(PREFERRED_BLOCK).putInt(MAX_BLOCK).flip();
        reply(option, NBD_REP_INFO, sizes);
        reply(option, NBD_REP_ACK, null);
        return true;
    }

    private void metaContext(int option, ByteBuffer data) throws IOException {
        if (option == NBD_OPT_SET_META_CONTEXT && !structured) {
            error(option, NBD_REP_ERR_INVALID, "NBD_OPT_SET_META_CONTEXT needs structured replies first");
            return;
        }
        List<String> queries = new ArrayList<>();
        String name;
        try {
            int nameLength = data.getInt();
            if (nameLength < 0 || nameLength > data.remaining()) {
                throw new IllegalArgumentException();
            }
            name = string(data, nameLength);
            int count = data.getInt();
            for (int i = 0; i < count; i++) {
                int l = data.getInt();
                if (l < 0 || l > data.remaining()) {
                    throw new IllegalArgumentException();
                }
                queries.add(string(data, l));
            }
            if (data.hasRemaining()) {
                throw new IllegalArgumentException();
            }
        } catch (RuntimeException e) {
            error(option, NBD_REP_ERR_INVALID, "malformed " + NbdProtocol.optionName(option));
            return;
        }
        if (!export.answersTo(name)) {
            error(option, NBD_REP_ERR_UNKNOWN, "no export '" + name + "' here");
            return;
        }
        boolean match = option == NBD_OPT_LIST_META_CONTEXT && queries.isEmpty();
        for (String q : queries) {
            // "base:" asks for every context of the namespace, of which base:allocation is the only one
            match |= q.equals(MetaContexts.BASE_ALLOCATION) || q.equals("base:");
        }
        if (option == NBD_OPT_SET_META_CONTEXT) {
            baseAllocation = match;
        }
        if (match) {
            byte[] context = MetaContexts.BASE_ALLOCATION.getBytes(StandardCharsets.US_ASCII);
            ByteBuffer b = ByteBuffer.allocate(4 + context.length);
            b.putInt(BASE_ALLOCATION_ID).put(context).flip();
            reply(option, NBD_REP_META_CONTEXT, b);
        }
        reply(option, NBD_REP_ACK, null);
    }

    private void reply(int option, int type, ByteBuffer data) throws IOException {
        ByteBuffer head = ByteBuffer.allocate(20);
        head.putLong(NBD_REP_MAGIC).putInt(option).putInt(type).putInt(data == null ? 0 : data.remaining()).flip();
        write(head, data);
    }

    private void error(int option, int type, String message) throws IOException {
        LOG.debug("{}: {} refused ({}): {}", peer, NbdProtocol.optionName(option), NbdProtocol.replyTypeName(type), message);
        reply(option, type, ByteBuffer.wrap(message.getBytes(StandardCharsets.UTF_8)));
    }

    // ---------------------------------------------------------------- transmission

    private void transmission() throws IOException {
        ByteBuffer request = ByteBuffer.allocate(28);
        while (true) {
            request.clear();
            readFully(request);
            request.flip();
            if (request.getInt() != NBD_REQUEST_MAGIC) {
                throw new IOException("request without NBD_REQUEST_MAGIC");
            }
            int flags = Short.toUnsignedInt(request.getShort());
            int type = Short.toUnsignedInt(request.getShort());
            long cookie = request.getLong();
            long offset = request.getLong();
            long length = Integer.toUnsignedLong(request.getInt());
            switch (type) {
                case NBD_CMD_READ -> read(cookie, flags, offset, length);
                case NBD_CMD_DISC -> {
                    LOG.info("{}: client disconnected", peer);
                    return;
                }
                case NBD_CMD_FLUSH -> simple(cookie, 0, null);
                case NBD_CMD_BLOCK_STATUS -> blockStatus(cookie, flags, offset, length);
                case NBD_CMD_WRITE -> {
                    discard(length);
                    refuse(cookie, NBD_EPERM, "the export is read-only");
                }
                case NBD_CMD_TRIM, NBD_CMD_WRITE_ZEROES -> refuse(cookie, NBD_EPERM, "the export is read-only");
                case NBD_CMD_CACHE -> refuse(cookie, NBD_EINVAL, "NBD_CMD_CACHE is not offered by this server");
                default -> refuse(cookie, NBD_EINVAL, NbdProtocol.commandName(type) + " is not supported");
            }
        }
    }

    private boolean inRange(long offset, long length) {
        return length > 0 && offset >= 0 && offset <= export.image().size() - length;
    }

    private void read(long cookie, int flags, long offset, long length) throws IOException {
        if (length > MAX_BLOCK) {
            refuse(cookie, NBD_EOVERFLOW, "read of " + length + " bytes is above the maximum block size " + MAX_BLOCK);
            return;
        }
        if (!inRange(offset, length)) {
            refuse(cookie, NBD_EINVAL, "read of " + length + " bytes at " + offset + " is outside the export");
            return;
        }
        SnapshotImage image = export.image();
        List<SnapshotImage.Piece> pieces = image.pieces(offset, length);
        byte[] data = new byte[(int) length];
        try {
            // requests in flight arrive a little out of order: "near where the last one ended" is sequential
            boolean sequential = Math.abs(offset - lastReadEnd) <= SEQUENTIAL_WINDOW;
            lastReadEnd = offset + length;
            image.read(offset, (int) length, data, 0, sequential);
        } catch (IOException | RuntimeException e) {
            // the chunk is named in the message; the client only learns EIO for this range
            LOG.error("{}: read of {} bytes at {} from snapshot {} failed: {}", peer, length, offset, image.manifest().id(), e.getMessage());
            refuse(cookie, NBD_EIO, "reading the snapshot failed");
            return;
        }
        if (!structured) {
            simple(cookie, 0, ByteBuffer.wrap(data));
            return;
        }
        if ((flags & NBD_CMD_FLAG_DF) != 0 || pieces.size() == 1 && pieces.get(0).data()) {
            structuredChunk(cookie, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_OFFSET_DATA, offsetHeader(offset), ByteBuffer.wrap(data));
            return;
        }
        for (int i = 0; i < pieces.size(); i++) {
            SnapshotImage.Piece p = pieces.get(i);
            int done = i == pieces.size() - 1 ? NBD_REPLY_FLAG_DONE : 0;
            if (p.data()) {
                structuredChunk(cookie, done, NBD_REPLY_TYPE_OFFSET_DATA, offsetHeader(p.offset()),
                        ByteBuffer.wrap(data, (int) (p.offset() - offset), (int) p.length()));
            } else {
                ByteBuffer hole = ByteBuffer.allocate(12);
                hole.putLong(p.offset()).putInt((int) p.length()).flip();
                structuredChunk(cookie, done, NBD_REPLY_TYPE_OFFSET_HOLE, hole, null);
            }
        }
    }

    private static ByteBuffer offsetHeader(long offset) {
        return ByteBuffer.allocate(8).putLong(0, offset);
    }

    private void blockStatus(long cookie, int flags, long offset, long length) throws IOException {
        if (!structured || !baseAllocation) {
            refuse(cookie, NBD_EINVAL, "NBD_CMD_BLOCK_STATUS needs structured replies and the base:allocation context");
            return;
        }
        if (!inRange(offset, length)) {
            refuse(cookie, NBD_EINVAL, "block status of " + length + " bytes at " + offset + " is outside the export");
            return;
        }
        List<SnapshotImage.Piece> pieces = export.image().pieces(offset, length);
        boolean one = (flags & NBD_CMD_FLAG_REQ_ONE) != 0;
        List<long[]> descriptors = new ArrayList<>();
        for (SnapshotImage.Piece p : pieces) {
            // what the repository stores no chunk for reads as zero and takes no space: a hole
            int state = p.data() ? 0 : NBD_STATE_HOLE | NBD_STATE_ZERO;
            for (long pos = p.offset(); pos < p.end(); pos += MAX_DESCRIPTOR) {
                descriptors.add(new long[] {Math.min(MAX_DESCRIPTOR, p.end() - pos), state});
            }
            if (one) {
                break;
            }
        }
        if (one) {
            descriptors = descriptors.subList(0, 1);
        }
        ByteBuffer payload = ByteBuffer.allocate(4 + 8 * descriptors.size());
        payload.putInt(BASE_ALLOCATION_ID);
        for (long[] d : descriptors) {
            payload.putInt((int) d[0]).putInt((int) d[1]);
        }
        structuredChunk(cookie, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_BLOCK_STATUS, payload.flip(), null);
    }

    /** an error answer: structured when negotiated (with a message), simple otherwise */
    private void refuse(long cookie, int error, String message) throws IOException {
        if (!structured) {
            simple(cookie, error, null);
            return;
        }
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        ByteBuffer payload = ByteBuffer.allocate(6 + text.length);
        payload.putInt(error).putShort((short) text.length).put(text).flip();
        structuredChunk(cookie, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_ERROR, payload, null);
    }

    private void simple(long cookie, int error, ByteBuffer data) throws IOException {
        ByteBuffer head = ByteBuffer.allocate(16);
        head.putInt(NBD_SIMPLE_REPLY_MAGIC).putInt(error).putLong(cookie).flip();
        write(head, data);
    }

    private void structuredChunk(long cookie, int flags, int type, ByteBuffer payload, ByteBuffer data) throws IOException {
        int length = payload.remaining() + (data == null ? 0 : data.remaining());
        ByteBuffer head = ByteBuffer.allocate(20 + payload.remaining());
        head.putInt(NBD_STRUCTURED_REPLY_MAGIC).putShort((short) flags).putShort((short) type).putLong(cookie).putInt(length)
                .put(payload).flip();
        write(head, data);
    }

    private void discard(long length) throws IOException {
        ByteBuffer sink = ByteBuffer.allocate((int) Math.min(length, 1 << 20));
        long left = length;
        while (left > 0) {
            sink.clear().limit((int) Math.min(left, sink.capacity()));
            readFully(sink);
            left -= sink.limit();
        }
    }

    // ---------------------------------------------------------------- bytes

    private ByteBuffer read(int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        readFully(b);
        return b.flip();
    }

    private void readFully(ByteBuffer b) throws IOException {
        wire.readFully(b);
    }

    private void write(ByteBuffer a) throws IOException {
        wire.write(a, null);
    }

    private void write(ByteBuffer a, ByteBuffer b) throws IOException {
        wire.write(a, b);
    }

    private static String string(ByteBuffer data, int length) {
        byte[] bytes = new byte[length];
        data.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
