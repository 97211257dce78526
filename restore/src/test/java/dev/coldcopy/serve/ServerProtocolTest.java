package dev.coldcopy.serve;

import static dev.coldcopy.nbd.protocol.NbdProtocol.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.nbd.protocol.MetaContexts;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.repository.testing.ImageBackup;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.repository.testing.StartedCamel;
import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** What real clients rarely send, byte by byte: refused options and commands, bad ranges, abort. */
class ServerProtocolTest {
    static final long MIB = 1024 * 1024;

    @TempDir
    Path work;
    @RegisterExtension
    final StartedCamel camel = new StartedCamel();
    Repository repo;
    NbdServer server;
    Path socket;
    SnapshotManifest manifest;

    @BeforeEach
    void serve() throws Exception {
        Path image = QemuImages.createQcow2(work.resolve("disk.qcow2"), 8 * MIB);
        QemuImages.io(image, "write -P 0x31 1M 1M");
        repo = Repository.init(RepositoryUri.parse("file:" + work.resolve("repo")),
                RepositoryOptions.builder().camelContext(camel.context()).build());
        manifest = repo.load(ImageBackup.full(repo, image, "vm1", "vda"));
        socket = work.resolve("s");
        server = NbdServer.start(ServedExport.of(manifest, new ChunkCache(repo, MIB * 16)), new ServeAddress.Unix(socket));
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        if (repo != null) {
            repo.close();
        }
    }

    @Test
    void optionsUnknownOnesAreUnsupportedAndListNamesTheExport() throws Exception {
        try (RawClient c = RawClient.open(socket)) {
            c.option(NBD_OPT_EXTENDED_HEADERS, new byte[0]);
            assertThat(c.optionReply()[0]).isEqualTo(NBD_REP_ERR_UNSUP);
            c.option(NBD_OPT_STARTTLS, new byte[0]);
            assertThat(c.optionReply()[0]).isEqualTo(NBD_REP_ERR_UNSUP);
            c.option(99, new byte[] {1, 2, 3});
            assertThat(c.optionReply()[0]).isEqualTo(NBD_REP_ERR_UNSUP);

            c.option(NBD_OPT_LIST, new byte[0]);
            Object[] server = c.optionReply();
            assertThat(server[0]).isEqualTo(NBD_REP_SERVER);
            ByteBuffer b = (ByteBuffer) server[1];
            byte[] name = new byte[b.getInt()];
            b.get(name);
            assertThat(new String(name, StandardCharsets.UTF_8)).isEqualTo(manifest.id().value());
            assertThat(c.optionReply()[0]).isEqualTo(NBD_REP_ACK);

            // INFO for a name that is not ours
            byte[] other = "other".getBytes(StandardCharsets.US_ASCII);
            c.option(NBD_OPT_INFO, ByteBuffer.allocate(4 + other.length + 2).putInt(other.length).put(other).putShort((short) 0).array());
            assertThat(c.optionReply()[0]).isEqualTo(NBD_REP_ERR_UNKNOWN);

            // SET_META_CONTEXT before structured replies is invalid
            c.option(NBD_OPT_SET_META_CONTEXT, metaQuery("", MetaContexts.BASE_ALLOCATION));
            assertThat(c.optionReply()[0]).isEqualTo(NBD_REP_ERR_INVALID);
            c.option(NBD_OPT_LIST_META_CONTEXT, metaQuery(""));
            Object[] ctx = c.optionReply();
            assertThat(ctx[0]).isEqualTo(NBD_REP_META_CONTEXT);
            ByteBuffer cb = (ByteBuffer) ctx[1];
            cb.getInt();
            assertThat(StandardCharsets.US_ASCII.decode(cb).toString()).isEqualTo(MetaContexts.BASE_ALLOCATION);
            assertThat(c.optionReply()[0]).isEqualTo(NBD_REP_ACK);

            // GO with the default name: the export's size and read-only flags
            c.option(NBD_OPT_GO, ByteBuffer.allocate(6).putInt(0).putShort((short) 0).array());
            Object[] info = c.optionReply();
            assertThat(info[0]).isEqualTo(NBD_REP_INFO);
            ByteBuffer ib = (ByteBuffer) info[1];
            assertThat(ib.getShort()).isEqualTo((short) NBD_INFO_EXPORT);
            assertThat(ib.getLong()).isEqualTo(8 * MIB);
            int flags = ib.getShort();
            assertThat(flags & NBD_FLAG_READ_ONLY).isNotZero();
            assertThat(flags & NBD_FLAG_CAN_MULTI_CONN).isNotZero();
            assertThat(flags & (NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES | NBD_FLAG_SEND_CACHE)).isZero();
            Object[] sizes = c.optionReply();
            assertThat(sizes[0]).isEqualTo(NBD_REP_INFO);
            assertThat(((ByteBuffer) sizes[1]).getShort()).isEqualTo((short) NBD_INFO_BLOCK_SIZE);
            assertThat(c.optionReply()[0]).isEqualTo(NBD_REP_ACK);

            // in transmission now: a read answers with the data
            c.sendRead(MIB, 4096);
            assertThat(c.simpleReplyError()).isZero();
            ByteBuffer data = c.read(4096);
            assertThat(data.get(0)).isEqualTo((byte) 0x31);
            assertThat(data.get(4095)).isEqualTo((byte) 0x31);
        }
    }

    @Test
    void writesTrimsAndCacheAreRefusedAndTheConnectionStays() throws Exception {
        try (RawClient c = RawClient.connect(socket)) {
            c.request(NBD_CMD_WRITE, 0, 4096, new byte[4096]);
            assertThat(c.simpleReplyError()).isEqualTo(NBD_EPERM);
            c.request(NBD_CMD_TRIM, 0, 4096, null);
            assertThat(c.simpleReplyError()).isEqualTo(NBD_EPERM);
            c.request(NBD_CMD_WRITE_ZEROES, 0, 4096, null);
            assertThat(c.simpleReplyError()).isEqualTo(NBD_EPERM);
            c.request(NBD_CMD_CACHE, 0, 4096, null);
            assertThat(c.simpleReplyError()).isEqualTo(NBD_EINVAL);
            c.request(NBD_CMD_FLUSH, 0, 0, null);
            assertThat(c.simpleReplyError()).isZero();
            // beyond the end, and above the maximum block size
            c.sendRead(8 * MIB - 512, 4096);
            assertThat(c.simpleReplyError()).isEqualTo(NBD_EINVAL);
            c.sendRead(0, 64 * 1024 * 1024);
            assertThat(c.simpleReplyError()).isEqualTo(NBD_EOVERFLOW);
            // block status without the context negotiated
            c.request(NBD_CMD_BLOCK_STATUS, 0, 4096, null);
            assertThat(c.simpleReplyError()).isEqualTo(NBD_EINVAL);
            // the written data never landed: still the backed-up bytes
            c.sendRead(0, 4096);
            assertThat(c.simpleReplyError()).isZero();
            c.read(4096);
            c.sendRead(MIB, 1);
            assertThat(c.simpleReplyError()).isZero();
            assertThat(c.read(1).get(0)).isEqualTo((byte) 0x31);
            c.request(NBD_CMD_DISC, 0, 0, null);
            assertThatThrownBy(() -> c.read(1)).isInstanceOf(EOFException.class);
        }
    }

    @Test
    void abortEndsTheHandshake() throws Exception {
        try (RawClient c = RawClient.open(socket)) {
            c.option(NBD_OPT_ABORT, new byte[0]);
            assertThat(c.optionReply()[0]).isEqualTo(NBD_REP_ACK);
            assertThatThrownBy(() -> c.read(1)).isInstanceOf(EOFException.class);
        }
        // an unknown name with NBD_OPT_EXPORT_NAME: the server can only hang up
        try (RawClient c = RawClient.open(socket)) {
            c.option(NBD_OPT_EXPORT_NAME, "nope".getBytes(StandardCharsets.US_ASCII));
            assertThatThrownBy(() -> c.read(1)).isInstanceOf(EOFException.class);
        }
    }

    static byte[] metaQuery(String export, String... queries) {
        ByteBuffer b = ByteBuffer.allocate(1024);
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        b.putInt(name.length).put(name).putInt(queries.length);
        for (String q : queries) {
            byte[] qb = q.getBytes(StandardCharsets.UTF_8);
            b.putInt(qb.length).put(qb);
        }
        byte[] out = new byte[b.position()];
        b.flip().get(out);
        return out;
    }
}
