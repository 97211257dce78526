package dev.coldcopy.qemu;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A minimal QMP client (the QEMU Machine Protocol: one JSON object per line) over a Unix socket. Commands
 * are sent one at a time and wait for the answer with the same {@code id}; asynchronous events are logged
 * and skipped. Every wait has a timeout, because a blocking socket read has none.
 */
public final class QmpClient implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(QmpClient.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNode EOF = JSON.createObjectNode().put("__eof", true);

    private final SocketChannel channel;
    private final BlockingQueue<JsonNode> replies = new LinkedBlockingQueue<>();
    private final AtomicLong ids = new AtomicLong();
    private final Duration timeout;
    private final String peer;

    private QmpClient(SocketChannel channel, Duration timeout, String peer) {
        this.channel = channel;
        this.timeout = timeout;
        this.peer = peer;
        Thread reader = new Thread(this::readLoop, "qmp-reader");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Connects, reads the greeting and negotiates capabilities ({@code qmp_capabilities}): when this returns,
     * the monitor answers commands.
     */
    public static QmpClient connect(Path socket, Duration timeout, String peer) throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        QmpClient client = new QmpClient(channel, timeout, peer);
        try {
            JsonNode greeting = client.next();
            if (!greeting.has("QMP")) {
                throw new QemuException(peer + " sent no QMP greeting: " + greeting);
            }
            client.execute("qmp_capabilities", null);
            return client;
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
    }

    /**
     * Runs one command.
     *
     * @return its {@code return} value
     * @throws QemuException with qemu's {@code error.desc} when it fails, or when no answer comes in time
     */
    public JsonNode execute(String command, Map<String, ?> arguments) {
        long id = ids.incrementAndGet();
        ObjectNode request = JSON.createObjectNode();
        request.put("execute", command);
        if (arguments != null) {
            request.set("arguments", JSON.valueToTree(arguments));
        }
        request.put("id", id);
        try {
            // the channel itself, not Channels.newOutputStream: that stream would wait for the reader's lock
            ByteBuffer bytes = ByteBuffer.wrap((JSON.writeValueAsString(request) + "\n").getBytes(StandardCharsets.UTF_8));
            synchronized (this) {
                while (bytes.hasRemaining()) {
                    channel.write(bytes);
                }
            }
        } catch (IOException e) {
            throw new QemuException(peer + ": cannot send " + command + ": " + e.getMessage(), e);
        }
        while (true) {
            JsonNode reply = next();
            if (reply.path("id").asLong(-1) != id) {
                continue;
            }
            if (reply.has("error")) {
                JsonNode error = reply.get("error");
                throw new QemuException(peer + ": " + command + " failed: " + error.path("desc").asText(error.toString()));
            }
            return reply.path("return");
        }
    }

    private JsonNode next() {
        try {
            JsonNode reply = replies.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (reply == null) {
                throw new QemuTimeoutException(peer + " did not answer on its QMP socket within " + timeout.toMillis() + " ms");
            }
            if (reply == EOF) {
                replies.offer(EOF);
                throw new QemuException(peer + " closed its QMP socket");
            }
            return reply;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QemuException(peer + ": interrupted while waiting for a QMP answer");
        }
    }

    private void readLoop() {
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
        try {
            while (channel.read(buffer.clear()) >= 0) {
                buffer.flip();
                while (buffer.hasRemaining()) {
                    byte b = buffer.get();
                    if (b != '\n') {
                        line.write(b);
                        continue;
                    }
                    String text = line.toString(StandardCharsets.UTF_8).strip();
                    line.reset();
                    if (text.isEmpty()) {
                        continue;
                    }
                    JsonNode message = JSON.readTree(text);
                    if (message.has("event")) {
                        LOG.debug("{} event {}", peer, message);
                    } else {
                        replies.offer(message);
                    }
                }
            }
        } catch (IOException e) {
            LOG.debug("{} QMP socket closed: {}", peer, e.getMessage());
        } finally {
            replies.offer(EOF);
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing QMP socket of {}: {}", peer, e.getMessage());
        }
    }
}
