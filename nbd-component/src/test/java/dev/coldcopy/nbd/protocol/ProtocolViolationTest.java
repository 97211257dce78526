package dev.coldcopy.nbd.protocol;

import static dev.coldcopy.nbd.protocol.NbdProtocol.*;
import static dev.coldcopy.nbd.protocol.ScriptedNbdServer.chunk;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Servers that break the protocol. No real server does this on purpose, so a scripted peer plays the
 * handshake correctly and then answers the first request the way each test asks.
 */
class ProtocolViolationTest {

    /** Answers the first request as the test asks and ignores the rest: the first reply already breaks the connection. */
    private static ScriptedNbdServer firstRequest(ScriptedNbdServer.Responder reply) throws IOException {
        AtomicBoolean answered = new AtomicBoolean();
        return new ScriptedNbdServer(1 << 20, NBD_FLAG_HAS_FLAGS | NBD_FLAG_READ_ONLY, null,
                (out, command, cookie, offset, length) -> {
                    if (!answered.getAndSet(true)) {
                        reply.reply(out, command, cookie, offset, length);
                    }
                });
    }

    private static void expectProtocolError(ScriptedNbdServer.Responder reply, String message) throws Exception {
        try (ScriptedNbdServer server = firstRequest(reply);
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
        expectProtocolError((out, command, cookie, offset, length) -> {
            out.writeInt(0x12345678);
            out.write(new byte[12]);
        }, "bad reply magic 0x12345678");
    }

    @Test
    void unknownCookie() throws Exception {
        expectProtocolError((out, command, cookie, offset, length) ->
                chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_NONE, cookie + 1000, 0), "unknown cookie");
    }

    @Test
    void dataPastTheRequest() throws Exception {
        expectProtocolError((out, command, cookie, offset, length) -> {
            chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_OFFSET_DATA, cookie, 8 + 16);
            out.writeLong(offset + length - 8); // 16 bytes starting 8 before the end
            out.write(new byte[16]);
        }, "outside the request");
    }

    @Test
    void unknownNonErrorChunkType() throws Exception {
        expectProtocolError((out, command, cookie, offset, length) -> chunk(out, NBD_REPLY_FLAG_DONE, 77, cookie, 0),
                "unknown structured reply chunk type 77");
    }

    @Test
    void unknownErrorChunkTypeFailsOnlyThatRequest() throws Exception {
        try (ScriptedNbdServer server = firstRequest((out, command, cookie, offset, length) -> {
            chunk(out, NBD_REPLY_FLAG_DONE, 0x8077, cookie, 4 + 2 + 3);
            out.writeInt(NBD_ENOTSUP);
            out.writeShort(3);
            out.writeBytes("odd");
        });
             NbdClient client = NbdClient.connect(server.uri(), NbdClientOptions.defaults())) {
            assertThatThrownBy(() -> client.read(0, 4096)).isInstanceOf(NbdServerErrorException.class)
                    .hasMessageContaining("ENOTSUP").hasMessageContaining("odd");
            assertThat(client.info().size()).isEqualTo(1 << 20);
        }
    }

    @Test
    void shortReadIsAnError() throws Exception {
        try (ScriptedNbdServer server = firstRequest((out, command, cookie, offset, length) -> {
            chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_OFFSET_DATA, cookie, 8 + 100);
            out.writeLong(offset);
            out.write(new byte[100]);
        });
             NbdClient client = NbdClient.connect(server.uri(), NbdClientOptions.defaults())) {
            assertThatThrownBy(() -> client.read(0, 4096)).isInstanceOf(NbdProtocolException.class)
                    .hasMessageContaining("completed with only 100 bytes");
        }
    }
}
