package dev.coldcopy.nbd.protocol;

import static dev.coldcopy.nbd.protocol.NbdProtocol.*;
import static dev.coldcopy.nbd.protocol.ScriptedNbdServer.chunk;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.nbd.camel.NbdinfoMap;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every unsigned 32/64-bit field the client reads, at its largest value. Real servers send some of these
 * (nbdkit's cow, cache, blocksize and swab filters advertise a maximum block size of 0xFFFFFFFF: see
 * NbdkitFiltersTest); the rest no real server can be made to send, so a scripted peer sends them.
 */
class UnsignedFieldsTest {

    private static final long U32_MAX = 0xFFFFFFFFL;

    /** Answers reads with zero-filled OFFSET_DATA and everything else with a bare DONE. */
    private static final ScriptedNbdServer.Responder PLAIN = (out, command, cookie, offset, length) -> {
        if (command == NBD_CMD_READ) {
            chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_OFFSET_DATA, cookie, 8 + length);
            out.writeLong(offset);
            out.write(new byte[(int) length]);
        } else {
            chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_NONE, cookie, 0);
        }
    };

    private static NbdClient connect(ScriptedNbdServer server) throws IOException {
        return NbdClient.connect(server.uri(), NbdClientOptions.builder().metaContexts(MetaContexts.BASE_ALLOCATION).build());
    }

    @Test
    void maximumBlockSizeOfAllOnesMeansNoLimit() throws Exception {
        // preferred at its largest power of two (2^31) reads negative as a Java int, too
        try (ScriptedNbdServer server = new ScriptedNbdServer(8L << 20, NBD_FLAG_HAS_FLAGS, new int[] {1, 0x8000_0000, 0xFFFF_FFFF}, PLAIN);
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
        try (ScriptedNbdServer server = new ScriptedNbdServer(8L << 20, NBD_FLAG_HAS_FLAGS, new int[] {0x8000_0000, 0x8000_0000, 0xFFFF_FFFF}, PLAIN)) {
            assertThatThrownBy(() -> connect(server)).isInstanceOf(NbdProtocolException.class)
                    .hasMessageContaining("invalid block sizes").hasMessageContaining("2147483648").hasMessageNotContaining("-");
        }
    }

    @Test
    void largestSignedExportSizeIsUsable() throws Exception {
        try (ScriptedNbdServer server = new ScriptedNbdServer(Long.MAX_VALUE, NBD_FLAG_HAS_FLAGS, null, PLAIN);
             NbdClient client = connect(server)) {
            assertThat(client.size()).isEqualTo(Long.MAX_VALUE);
            assertThat(client.read(Long.MAX_VALUE - 4096, 4096)).hasSize(4096);
        }
    }

    @Test
    void exportSizeAtTheUnsignedMaximumIsRefusedWithItsValue() throws Exception {
        try (ScriptedNbdServer server = new ScriptedNbdServer(-1L, NBD_FLAG_HAS_FLAGS, null, PLAIN)) {
            assertThatThrownBy(() -> connect(server)).isInstanceOf(NbdProtocolException.class)
                    .hasMessageContaining("18446744073709551615 bytes");
        }
    }

    @Test
    void transmissionFlagsAtTheirMaximumAreAllSeen() throws Exception {
        try (ScriptedNbdServer server = new ScriptedNbdServer(1 << 20, 0xFFFF, null, PLAIN);
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
        ScriptedNbdServer.Responder extents = (out, command, cookie, offset, length) -> {
            chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_BLOCK_STATUS, cookie, 4 + 8);
            out.writeInt(1);
            out.writeInt((int) U32_MAX);
            out.writeInt((int) U32_MAX);
        };
        try (ScriptedNbdServer server = new ScriptedNbdServer(size, NBD_FLAG_HAS_FLAGS | NBD_FLAG_READ_ONLY, null, extents);
             NbdClient client = connect(server)) {
            List<Extent> got = client.blockStatus(MetaContexts.BASE_ALLOCATION, 0, size);
            // the three replies, each 0xFFFFFFFF long with every flag bit set, merge into one extent
            assertThat(got).containsExactly(new Extent(0, size, 0xFFFF_FFFF));
            assertThat(NbdinfoMap.toText(MetaContexts.BASE_ALLOCATION, got).strip()).isEqualTo("0  12884901885  4294967295");
        }
    }

    @Test
    void chunkLengthAtTheUnsignedMaximumIsAProtocolErrorNotACrash() throws Exception {
        ScriptedNbdServer.Responder huge = (out, command, cookie, offset, length) ->
                chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_ERROR, cookie, U32_MAX);
        try (ScriptedNbdServer server = new ScriptedNbdServer(1 << 20, NBD_FLAG_HAS_FLAGS, null, huge);
             NbdClient client = connect(server)) {
            assertThatThrownBy(() -> client.read(0, 4096)).isInstanceOf(NbdProtocolException.class)
                    .hasMessageContaining("too large: 4294967295 bytes");
        }
    }

    @Test
    void dataOffsetAtTheUnsignedMaximumIsOutsideTheRequest() throws Exception {
        ScriptedNbdServer.Responder far = (out, command, cookie, offset, length) -> {
            chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_OFFSET_DATA, cookie, 8 + 16);
            out.writeLong(-1L);
            out.write(new byte[16]);
        };
        try (ScriptedNbdServer server = new ScriptedNbdServer(1 << 20, NBD_FLAG_HAS_FLAGS, null, far);
             NbdClient client = connect(server)) {
            assertThatThrownBy(() -> client.read(0, 4096)).isInstanceOf(NbdProtocolException.class)
                    .hasMessageContaining("outside the request");
        }
    }

    @Test
    void dataOffsetNearTheSignedMaximumDoesNotOverflowPastTheCheck() throws Exception {
        ScriptedNbdServer.Responder far = (out, command, cookie, offset, length) -> {
            chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_OFFSET_DATA, cookie, 8 + 16);
            out.writeLong(Long.MAX_VALUE - 8); // + 16 bytes wraps negative
            out.write(new byte[16]);
        };
        try (ScriptedNbdServer server = new ScriptedNbdServer(1 << 20, NBD_FLAG_HAS_FLAGS, null, far);
             NbdClient client = connect(server)) {
            assertThatThrownBy(() -> client.read(0, 4096)).isInstanceOf(NbdProtocolException.class)
                    .hasMessageContaining("outside the request");
        }
    }

    @Test
    void holeLengthAtTheUnsignedMaximumIsOutsideTheRequest() throws Exception {
        ScriptedNbdServer.Responder hole = (out, command, cookie, offset, length) -> {
            chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_OFFSET_HOLE, cookie, 12);
            out.writeLong(offset);
            out.writeInt((int) U32_MAX);
        };
        try (ScriptedNbdServer server = new ScriptedNbdServer(1 << 20, NBD_FLAG_HAS_FLAGS, null, hole);
             NbdClient client = connect(server)) {
            assertThatThrownBy(() -> client.read(0, 4096)).isInstanceOf(NbdProtocolException.class)
                    .hasMessageContaining("outside the request").hasMessageContaining("4294967295");
        }
    }

    @Test
    void errorCodeAtTheUnsignedMaximumFailsOnlyThatRequest() throws Exception {
        ScriptedNbdServer.Responder err = (out, command, cookie, offset, length) -> {
            if (offset == 0) {
                chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_ERROR, cookie, 6);
                out.writeInt((int) U32_MAX);
                out.writeShort(0);
            } else {
                PLAIN.reply(out, command, cookie, offset, length);
            }
        };
        try (ScriptedNbdServer server = new ScriptedNbdServer(1 << 20, NBD_FLAG_HAS_FLAGS, null, err);
             NbdClient client = connect(server)) {
            assertThatThrownBy(() -> client.read(0, 4096)).isInstanceOf(NbdServerErrorException.class)
                    .hasMessageContaining("4294967295");
            assertThat(client.read(4096, 4096)).hasSize(4096);
        }
    }

    @Test
    void writeOfAWholeUnlimitedPieceUsesOneRequest() throws Exception {
        ByteBuffer data = ByteBuffer.allocate(256 * 1024);
        try (ScriptedNbdServer server = new ScriptedNbdServer(1 << 20, NBD_FLAG_HAS_FLAGS, new int[] {1, 4096, 0xFFFF_FFFF}, PLAIN);
             NbdClient client = connect(server)) {
            client.write(0, data);
            assertThat(client.read(0, 256 * 1024)).hasSize(256 * 1024);
        }
    }

    @Test
    void exportNameLengthAtTheUnsignedMaximumIsAProtocolError() throws Exception {
        try (ScriptedNbdServer server = new ScriptedNbdServer(1 << 20, NBD_FLAG_HAS_FLAGS, null, PLAIN)) {
            assertThatThrownBy(() -> NbdClient.listExports(server.uri(), NbdClientOptions.defaults()))
                    .isInstanceOf(NbdProtocolException.class).hasMessageContaining("bad export name length");
        }
    }
}
