package dev.coldcopy.serve;

import static dev.coldcopy.nbd.protocol.NbdProtocol.*;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Speaks the protocol byte by byte, to test what real clients never send (and to hang up mid-reply). */
final class RawClient implements AutoCloseable {
    final SocketChannel channel;

    private RawClient(SocketChannel channel) {
        this.channel = channel;
    }

    /** connected and past the greeting (fixed newstyle, no zeroes); options come next */
    static RawClient open(Path socket) throws IOException {
        return open(UnixDomainSocketAddress.of(socket));
    }

    /** as {@link #open(Path)}, on a Unix socket or TCP address */
    static RawClient open(SocketAddress address) throws IOException {
        RawClient c = new RawClient(SocketChannel.open(address));
        ByteBuffer hello = c.read(18);
        if (hello.getLong() != NBDMAGIC || hello.getLong() != IHAVEOPT) {
            throw new IOException("not a newstyle server");
        }
        c.write(ByteBuffer.allocate(4).putInt(0, NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES));
        return c;
    }

    /** connected with NBD_OPT_EXPORT_NAME "" (simple replies) */
    static RawClient connect(Path socket) throws IOException {
        RawClient c = open(socket);
        c.option(NBD_OPT_EXPORT_NAME, new byte[0]);
        c.read(10);
        return c;
    }

    void option(int option, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16 + data.length);
        b.putLong(IHAVEOPT).putInt(option).putInt(data.length).put(data).flip();
        write(b);
    }

    /** one option reply: {type, data} */
    Object[] optionReply() throws IOException {
        ByteBuffer head = read(20);
        if (head.getLong() != NBD_REP_MAGIC) {
            throw new IOException("bad reply magic");
        }
        head.getInt();
        int type = head.getInt();
        int length = head.getInt();
        ByteBuffer data = read(length);
        return new Object[] {type, data};
    }

    void request(int type, long offset, int length, byte[] payload) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(28 + (payload == null ? 0 : payload.length));
        b.putInt(NBD_REQUEST_MAGIC).putShort((short) 0).putShort((short) type).putLong(7).putLong(offset).putInt(length);
        if (payload != null) {
            b.put(payload);
        }
        write(b.flip());
    }

    void sendRead(long offset, int length) throws IOException {
        request(NBD_CMD_READ, offset, length, null);
    }

    /** a simple reply's error (its data, if any, is left unread) */
    int simpleReplyError() throws IOException {
        ByteBuffer head = read(16);
        if (head.getInt() != NBD_SIMPLE_REPLY_MAGIC) {
            throw new IOException("not a simple reply");
        }
        return head.getInt();
    }

    void readSome(int n) throws IOException {
        read(n);
    }

    ByteBuffer read(int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) {
                throw new EOFException("server closed the connection");
            }
        }
        return b.flip();
    }

    void write(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
