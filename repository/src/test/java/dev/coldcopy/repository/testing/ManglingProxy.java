package dev.coldcopy.repository.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A tiny HTTP/1.1 proxy in front of an S3 server that damages uploads the way broken stores and
 * middleboxes do: flips one byte of a PUT body, drops the Content-MD5 header (a store that ignores it),
 * or passes an aws-chunked upload on as if it were a plain body (a store that keeps the framing). Only
 * PUTs whose path matches the predicate are touched. One request per connection (it answers
 * {@code Connection: close}); enough for the SDK's Apache client, which reconnects.
 */
public final class ManglingProxy implements AutoCloseable {
    public enum Damage { FLIP_BYTE, FLIP_BYTE_AND_DROP_MD5, KEEP_CHUNKED_FRAMING }

    private final ServerSocket server;
    private final int backendPort;
    private final Damage damage;
    private final Predicate<String> paths;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "mangling-proxy");
        t.setDaemon(true);
        return t;
    });
    private final AtomicInteger damaged = new AtomicInteger();

    public ManglingProxy(int backendPort, Damage damage, Predicate<String> paths) throws IOException {
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.backendPort = backendPort;
        this.damage = damage;
        this.paths = paths;
        threads.submit(this::accept);
    }

    public String endpoint() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    /** how many uploads it has damaged */
    public int damaged() {
        return damaged.get();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                threads.submit(() -> serve(client));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket client) {
        try (client; Socket backend = new Socket()) {
            InputStream in = client.getInputStream();
            List<String> head = HttpHead.read(in);
            if (head.isEmpty()) {
                return;
            }
            String requestLine = head.get(0);
            String method = requestLine.split(" ")[0];
            String path = requestLine.split(" ")[1];
            List<String> headers = new ArrayList<>(head.subList(1, head.size()));
            long length = 0;
            for (String h : headers) {
                if (HttpHead.name(h).equals("content-length")) {
                    length = Long.parseLong(h.substring(h.indexOf(':') + 1).strip());
                }
            }
            if (headers.stream().anyMatch(h -> HttpHead.name(h).equals("expect"))) {
                client.getOutputStream().write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                client.getOutputStream().flush();
                headers.removeIf(h -> HttpHead.name(h).equals("expect"));
            }
            byte[] body = in.readNBytes((int) length);
            headers.removeIf(h -> HttpHead.name(h).equals("connection"));
            headers.add("Connection: close");
            if (method.equals("PUT") && paths.test(path) && body.length > 0) {
                damaged.incrementAndGet();
                switch (damage) {
                    case FLIP_BYTE -> body[body.length / 2] ^= 0x01;
                    case FLIP_BYTE_AND_DROP_MD5 -> {
                        body[body.length / 2] ^= 0x01;
                        headers.removeIf(h -> HttpHead.name(h).equals("content-md5"));
                    }
                    case KEEP_CHUNKED_FRAMING -> {
                        // what a store that does not know aws-chunked sees: a body that is the framing itself
                        headers.removeIf(h -> HttpHead.name(h).equals("content-encoding") || HttpHead.name(h).equals("x-amz-decoded-content-length")
                                || HttpHead.name(h).equals("x-amz-content-sha256") || HttpHead.name(h).equals("x-amz-trailer")
                                || HttpHead.name(h).equals("content-md5"));
                        headers.add("x-amz-content-sha256: UNSIGNED-PAYLOAD");
                    }
                }
            }
            backend.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), backendPort), 5000);
            OutputStream out = backend.getOutputStream();
            StringBuilder sb = new StringBuilder(requestLine).append("\r\n");
            headers.forEach(h -> sb.append(h).append("\r\n"));
            sb.append("\r\n");
            out.write(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.write(body);
            out.flush();
            backend.getInputStream().transferTo(client.getOutputStream());
            client.getOutputStream().flush();
        } catch (IOException | RuntimeException e) {
            // the client sees a dropped connection and retries or fails
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            // closing
        }
        threads.shutdownNow();
    }
}
