package dev.coldcopy.nbd.protocol;

import static dev.coldcopy.nbd.protocol.NbdProtocol.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;

/**
 * Servers that break the protocol. No real server does this on purpose, so a scripted peer plays the
 * handshake correctly and then answers the first request the way each test asks.
 */
class ProtocolViolationTest {

    /** A one-connection peer: fixed-newstyle handshake with structured replies, then {@code reply} for the first request. */
    private static final class ScriptedServer implements AutoCloseable {
        final ServerSocket socket;
        final Thread thread;

        ScriptedServer(BiConsumer<DataOutputStream, long[]> reply) throws IOException {
            socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
            thread = new Thread(() -> {
                try (Socket s = socket.accept()) {
                    DataInputStream in = new DataInputStream(s.getInputStream());
                    DataOutputStream out = new DataOutputStream(s.getOutputStream());
                    out.writeLong(NBDMAGIC);
                    out.writeLong(IHAVEOPT);
                    out.writeShort(NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
                    out.flush();
                    in.readInt();
                    while (true) {
                        in.readLong();
                        int option = in.readInt();
                        in.readFully(new byte[in.readInt()]);
                        if (option == NBD_OPT_GO) {
                            out.writeLong(NBD_REP_MAGIC);
                            out.writeInt(option);
                            out.writeInt(NBD_REP_INFO);
                            out.writeInt(12);
                            out.writeShort(NBD_INFO_EXPORT);
                            out.writeLong(1 << 20);
                            out.writeShort(NBD_FLAG_HAS_FLAGS | NBD_FLAG_READ_ONLY);
                        }
                        out.writeLong(NBD_REP_MAGIC);
                        out.writeInt(option);
                        out.writeInt(NBD_REP_ACK);
                        out.writeInt(0);
                        out.flush();
                        if (option == NBD_OPT_GO) {
                            break;
                        }
                    }
                    in.readInt();
                    in.readShort();
                    in.readShort();
                    long cookie = in.readLong();
                    long offset = in.readLong();
                    long length = in.readInt() & 0xffffffffL;
                    reply.accept(out, new long[] {cookie, offset, length});
                    out.flush();
                    // stay connected until the client hangs up (NBD_CMD_DISC, then EOF)
                    while (in.read() >= 0) {
                        // drain
                    }
                } catch (IOException e) {
                    // the test is over
                }
            });
            thread.setDaemon(true);
            thread.start();
        }

        NbdUri uri() {
            return NbdUri.tcp("127.0.0.1", socket.getLocalPort(), "x");
        }

        @Override
        public void close() throws IOException {
            thread.interrupt();
            socket.close();
        }
    }

    private static void chunk(DataOutputStream out, int flags, int type, long cookie, int length) {
        try {
            out.writeInt(NBD_STRUCTURED_REPLY_MAGIC);
            out.writeShort(flags);
            out.writeShort(type);
            out.writeLong(cookie);
            out.writeInt(length);
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    private static void expectProtocolError(BiConsumer<DataOutputStream, long[]> reply, String message) throws Exception {
        try (ScriptedServer server = new ScriptedServer(reply);
             NbdClient client = NbdClient.connect(server.uri(), NbdClientOptions.defaults())) {
            CompletableFuture<Void> first = client.readAsync(0, ByteBuffer.allocate(4096));
            CompletableFuture<Void> second = client.readAsync(8192, ByteBuffer.allocate(4096));
            assertTimeoutPreemptively(Duration.ofSeconds(3), () -> {
                assertThatThrownBy(first::join).hasCauseInstanceOf(NbdProtocolException.class).hasMessageContaining(message);
                assertThatThrownBy(second::join).hasCauseInstanceOf(NbdProtocolException.class);
            });
            assertThatThrownBy(() -> client.read(0, 10)).isInstanceOf(NbdProtocolException.class);
        }
    }

    @Test
    void badReplyMagic() throws Exception {
        expectProtocolError((out, req) -> {
            try {
                out.writeInt(0x12345678);
                out.write(new byte[12]);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }, "bad reply magic 0x12345678");
    }

    @Test
    void unknownCookie() throws Exception {
        expectProtocolError((out, req) -> chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_NONE, req[0] + 1000, 0),
                "unknown cookie");
    }

    @Test
    void dataPastTheRequest() throws Exception {
        expectProtocolError((out, req) -> {
            chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_OFFSET_DATA, req[0], 8 + 16);
            try {
                out.writeLong(req[1] + req[2] - 8); // 16 bytes starting 8 before the end
                out.write(new byte[16]);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }, "outside the request");
    }

    @Test
    void unknownNonErrorChunkType() throws Exception {
        expectProtocolError((out, req) -> chunk(out, NBD_REPLY_FLAG_DONE, 77, req[0], 0), "unknown structured reply chunk type 77");
    }

    @Test
    void unknownErrorChunkTypeFailsOnlyThatRequest() throws Exception {
        try (ScriptedServer server = new ScriptedServer((out, req) -> {
            chunk(out, NBD_REPLY_FLAG_DONE, 0x8077, req[0], 4 + 2 + 3);
            try {
                out.writeInt(NBD_ENOTSUP);
                out.writeShort(3);
                out.writeBytes("odd");
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
             NbdClient client = NbdClient.connect(server.uri(), NbdClientOptions.defaults())) {
            assertThatThrownBy(() -> client.read(0, 4096)).isInstanceOf(NbdServerErrorException.class)
                    .hasMessageContaining("ENOTSUP").hasMessageContaining("odd");
            assertThat(client.info().size()).isEqualTo(1 << 20);
        }
    }

    @Test
    void shortReadIsAnError() throws Exception {
        try (ScriptedServer server = new ScriptedServer((out, req) -> {
            chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_OFFSET_DATA, req[0], 8 + 100);
            try {
                out.writeLong(req[1]);
                out.write(new byte[100]);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
             NbdClient client = NbdClient.connect(server.uri(), NbdClientOptions.defaults())) {
            assertThatThrownBy(() -> client.read(0, 4096)).isInstanceOf(NbdProtocolException.class)
                    .hasMessageContaining("completed with only 100 bytes");
        }
    }
}
