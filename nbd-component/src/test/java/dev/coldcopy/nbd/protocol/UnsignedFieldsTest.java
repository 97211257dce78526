package dev.coldcopy.nbd.protocol;

import static dev.coldcopy.nbd.protocol.NbdProtocol.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.nbd.camel.NbdinfoMap;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every unsigned 32/64-bit field the client reads, at its largest value. Real servers send some of these
 * (nbdkit's cow, cache, blocksize and swab filters advertise a maximum block size of 0xFFFFFFFF: see
 * NbdkitFiltersTest); the rest no real server can be made to send, so a scripted peer sends them.
 */
class UnsignedFieldsTest {

    private static final long U32_MAX = 0xFFFFFFFFL;

    /** What the scripted server answers to one transmission request. */
    @FunctionalInterface
    interface Responder {
        void reply(DataOutputStream out, int command, long cookie, long offset, long length) throws IOException;
    }

    /**
     * A one-connection fixed-newstyle peer: structured replies, base:allocation as context 1, GO answered
     * with the given size, flags and (when not null) block sizes; then every request goes to the responder
     * until NBD_CMD_DISC.
     */
    private static final class ScriptedServer implements AutoCloseable {
        final ServerSocket socket;
        final Thread thread;

        ScriptedServer(long size, int flags, int[] blockSizes, Responder responder) throws IOException {
            socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
            thread = new Thread(() -> {
                try (Socket s = socket.accept()) {
                    serve(new DataInputStream(s.getInputStream()), new DataOutputStream(s.getOutputStream()),
                            size, flags, blockSizes, responder);
                } catch (IOException e) {
                    // the client went away: the test is over
                }
            });
            thread.setDaemon(true);
            thread.start();
        }

        private static void serve(DataInputStream in, DataOutputStream out, long size, int flags, int[] blockSizes,
                                  Responder responder) throws IOException {
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
                    // an export name length at the unsigned maximum, far beyond the reply
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
                    break;
                }
                if (option == NBD_OPT_ABORT) {
                    return;
                }
            }
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

        NbdUri uri() {
            return NbdUri.tcp("127.0.0.1", socket.getLocalPort(), "x");
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static void chunk(DataOutputStream out, int flags, int type, long cookie, long length) throws IOException {
        out.writeInt(NBD_STRUCTURED_REPLY_MAGIC);
        out.writeShort(flags);
        out.writeShort(type);
        out.writeLong(cookie);
        out.writeInt((int) length);
    }

    /** Answers reads with zero-filled OFFSET_DATA and everything else with a bare DONE. */
    private static final Responder PLAIN = (out, command, cookie, offset, length) -> {
        if (command == NBD_CMD_READ) {
            chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_OFFSET_DATA, cookie, 8 + length);
            out.writeLong(offset);
            out.write(new byte[(int) length]);
        } else {
            chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_NONE, cookie, 0);
        }
    };

    private static NbdClient connect(ScriptedServer server) throws IOException {
        return NbdClient.connect(server.uri(), NbdClientOptions.builder().metaContexts(MetaContexts.BASE_ALLOCATION).build());
    }

    @Test
    void maximumBlockSizeOfAllOnesMeansNoLimit() throws Exception {
        // preferred at its largest power of two (2^31) reads negative as a Java int, too
        try (ScriptedServer server = new ScriptedServer(8L << 20, NBD_FLAG_HAS_FLAGS, new int[] {1, 0x8000_0000, 0xFFFF_FFFF}, PLAIN);
             NbdClient client = connect(server)) {
            BlockSize bs = client.info().blockSize();
            assertThat(bs.maximum()).isEqualTo(U32_MAX);
            assertThat(bs.preferred()).isEqualTo(1L << 31);
            assertThat(bs.unlimited()).isTrue();
            assertThat(client.read(4096, 1 << 20)).hasSize(1 << 20).containsOnly(0);
        }
    }

    @Test
    void minimumBlockSizeAtTheTopOfItsRangeIsRefusedWithItsUnsignedValue() throws Exception {
        try (ScriptedServer server = new ScriptedServer(8L << 20, NBD_FLAG_HAS_FLAGS, new int[] {0x8000_0000, 0x8000_0000, 0xFFFF_FFFF}, PLAIN)) {
            assertThatThrownBy(() -> connect(server)).isInstanceOf(NbdProtocolException.class)
                    .hasMessageContaining("invalid block sizes").hasMessageContaining("2147483648").hasMessageNotContaining("-");
        }
    }

    @Test
    void largestSignedExportSizeIsUsable() throws Exception {
        try (ScriptedServer server = new ScriptedServer(Long.MAX_VALUE, NBD_FLAG_HAS_FLAGS, null, PLAIN);
             NbdClient client = connect(server)) {
            assertThat(client.size()).isEqualTo(Long.MAX_VALUE);
            assertThat(client.read(Long.MAX_VALUE - 4096, 4096)).hasSize(4096);
        }
    }

    @Test
    void exportSizeAtTheUnsignedMaximumIsRefusedWithItsValue() throws Exception {
        try (ScriptedServer server = new ScriptedServer(-1L, NBD_FLAG_HAS_FLAGS, null, PLAIN)) {
            assertThatThrownBy(() -> connect(server)).isInstanceOf(NbdProtocolException.class)
                    .hasMessageContaining("18446744073709551615 bytes");
        }
    }

    @Test
    void transmissionFlagsAtTheirMaximumAreAllSeen() throws Exception {
        try (ScriptedServer server = new ScriptedServer(1 << 20, 0xFFFF, null, PLAIN);
             NbdClient client = connect(server)) {
            ExportInfo info = client.info();
            assertThat(info.transmissionFlags()).isEqualTo(0xFFFF);
            assertThat(info.readOnly()).isTrue();
            assertThat(info.canFastZero()).isTrue();
            assertThat(info.canMultiConn()).isTrue();
        }
    }

    @Test
    void blockStatusExtentLengthAndFlagsAtTheirMaximum() throws Exception {
        long size = 3 * U32_MAX;
        Responder extents = (out, command, cookie, offset, length) -> {
            chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_BLOCK_STATUS, cookie, 4 + 8);
            out.writeInt(1);
            out.writeInt((int) U32_MAX);
            out.writeInt((int) U32_MAX);
        };
        try (ScriptedServer server = new ScriptedServer(size, NBD_FLAG_HAS_FLAGS | NBD_FLAG_READ_ONLY, null, extents);
             NbdClient client = connect(server)) {
            List<Extent> got = client.blockStatus(MetaContexts.BASE_ALLOCATION, 0, size);
            // the three replies, each 0xFFFFFFFF long with every flag bit set, merge into one extent
            assertThat(got).containsExactly(new Extent(0, size, 0xFFFF_FFFF));
            assertThat(NbdinfoMap.toText(MetaContexts.BASE_ALLOCATION, got).strip()).isEqualTo("0  12884901885  4294967295");
        }
    }

    @Test
    void chunkLengthAtTheUnsignedMaximumIsAProtocolErrorNotACrash() throws Exception {
        Responder huge = (out, command, cookie, offset, length) ->
                chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_ERROR, cookie, U32_MAX);
        try (ScriptedServer server = new ScriptedServer(1 << 20, NBD_FLAG_HAS_FLAGS, null, huge);
             NbdClient client = connect(server)) {
            assertThatThrownBy(() -> client.read(0, 4096)).isInstanceOf(NbdProtocolException.class)
                    .hasMessageContaining("too large: 4294967295 bytes");
        }
    }

    @Test
    void dataOffsetAtTheUnsignedMaximumIsOutsideTheRequest() throws Exception {
        Responder far = (out, command, cookie, offset, length) -> {
            chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_OFFSET_DATA, cookie, 8 + 16);
            out.writeLong(-1L);
            out.write(new byte[16]);
        };
        try (ScriptedServer server = new ScriptedServer(1 << 20, NBD_FLAG_HAS_FLAGS, null, far);
             NbdClient client = connect(server)) {
            assertThatThrownBy(() -> client.read(0, 4096)).isInstanceOf(NbdProtocolException.class)
                    .hasMessageContaining("outside the request");
        }
    }

    @Test
    void dataOffsetNearTheSignedMaximumDoesNotOverflowPastTheCheck() throws Exception {
        Responder far = (out, command, cookie, offset, length) -> {
            chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_OFFSET_DATA, cookie, 8 + 16);
            out.writeLong(Long.MAX_VALUE - 8); // + 16 bytes wraps negative
            out.write(new byte[16]);
        };
        try (ScriptedServer server = new ScriptedServer(1 << 20, NBD_FLAG_HAS_FLAGS, null, far);
             NbdClient client = connect(server)) {
            assertThatThrownBy(() -> client.read(0, 4096)).isInstanceOf(NbdProtocolException.class)
                    .hasMessageContaining("outside the request");
        }
    }

    @Test
    void holeLengthAtTheUnsignedMaximumIsOutsideTheRequest() throws Exception {
        Responder hole = (out, command, cookie, offset, length) -> {
            chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_OFFSET_HOLE, cookie, 12);
            out.writeLong(offset);
            out.writeInt((int) U32_MAX);
        };
        try (ScriptedServer server = new ScriptedServer(1 << 20, NBD_FLAG_HAS_FLAGS, null, hole);
             NbdClient client = connect(server)) {
            assertThatThrownBy(() -> client.read(0, 4096)).isInstanceOf(NbdProtocolException.class)
                    .hasMessageContaining("outside the request").hasMessageContaining("4294967295");
        }
    }

    @Test
    void errorCodeAtTheUnsignedMaximumFailsOnlyThatRequest() throws Exception {
        Responder err = (out, command, cookie, offset, length) -> {
            if (offset == 0) {
                chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_ERROR, cookie, 6);
                out.writeInt((int) U32_MAX);
                out.writeShort(0);
            } else {
                PLAIN.reply(out, command, cookie, offset, length);
            }
        };
        try (ScriptedServer server = new ScriptedServer(1 << 20, NBD_FLAG_HAS_FLAGS, null, err);
             NbdClient client = connect(server)) {
            assertThatThrownBy(() -> client.read(0, 4096)).isInstanceOf(NbdServerErrorException.class)
                    .hasMessageContaining("4294967295");
            assertThat(client.read(4096, 4096)).hasSize(4096);
        }
    }

    @Test
    void writeOfAWholeUnlimitedPieceUsesOneRequest() throws Exception {
        ByteBuffer data = ByteBuffer.allocate(256 * 1024);
        try (ScriptedServer server = new ScriptedServer(1 << 20, NBD_FLAG_HAS_FLAGS, new int[] {1, 4096, 0xFFFF_FFFF}, PLAIN);
             NbdClient client = connect(server)) {
            client.write(0, data);
            assertThat(client.read(0, 256 * 1024)).hasSize(256 * 1024);
        }
    }

    @Test
    void exportNameLengthAtTheUnsignedMaximumIsAProtocolError() throws Exception {
        try (ScriptedServer server = new ScriptedServer(1 << 20, NBD_FLAG_HAS_FLAGS, null, PLAIN)) {
            assertThatThrownBy(() -> NbdClient.listExports(server.uri(), NbdClientOptions.defaults()))
                    .isInstanceOf(NbdProtocolException.class).hasMessageContaining("bad export name length");
        }
    }
}
