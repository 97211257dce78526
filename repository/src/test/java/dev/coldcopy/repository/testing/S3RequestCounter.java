package dev.coldcopy.repository.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Predicate;

/**
 * A pass-through HTTP/1.1 proxy in front of an S3 server that records every request it forwards, by the
 * operation an object store bills (PUT, GET, HEAD, LIST, DELETE, POST) and the key it names: what a
 * capacity model needs, measured on real traffic rather than counted in our own code. Requests are passed on
 * unchanged (signatures stay valid); one request per connection ({@code Connection: close}), which the SDK's
 * client handles by reconnecting. Path-style addressing ({@code /BUCKET/KEY}), as coldcopy uses off AWS.
 */
public final class S3RequestCounter implements AutoCloseable {
    /** One forwarded request: its billed operation and the object key (empty for a bucket-level request). */
    public record Request(String operation, String key) {
    }

    private final ServerSocket server;
    private final int backendPort;
    private final String bucket;
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "s3-request-counter");
        t.setDaemon(true);
        return t;
    });

    public S3RequestCounter(int backendPort, String bucket) throws IOException {
        this.server = new ServerSocket(0, 100, InetAddress.getLoopbackAddress());
        this.backendPort = backendPort;
        this.bucket = bucket;
        threads.submit(this::accept);
    }

    public String endpoint() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    /** every request since the last {@link #reset()} */
    public List<Request> requests() {
        return List.copyOf(requests);
    }

    public void reset() {
        requests.clear();
    }

    /** requests per operation, e.g. {@code {GET=3, LIST=2, PUT=7}} */
    public Map<String, Integer> byOperation() {
        return count(r -> true);
    }

    /** requests per operation on keys that satisfy the filter */
    public Map<String, Integer> count(Predicate<Request> which) {
        Map<String, Integer> out = new TreeMap<>();
        for (Request r : requests) {
            if (which.test(r)) {
                out.merge(r.operation(), 1, Integer::sum);
            }
        }
        return out;
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
            String[] parts = requestLine.split(" ");
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
            requests.add(classify(parts[0], parts[1], headers));
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

    /** what a store bills this request as: a GET on the bucket with list parameters is a LIST */
    private Request classify(String method, String target, List<String> headers) {
        int q = target.indexOf('?');
        String path = URLDecoder.decode(q < 0 ? target : target.substring(0, q), StandardCharsets.UTF_8);
        String query = q < 0 ? "" : target.substring(q + 1);
        String bucketPath = "/" + bucket;
        String key = path.startsWith(bucketPath + "/") ? path.substring(bucketPath.length() + 1) : "";
        String operation = switch (method) {
            case "GET" -> key.isEmpty() && (query.contains("list-type") || query.contains("prefix")) ? "LIST" : "GET";
            case "PUT" -> headers.stream().anyMatch(h -> HttpHead.name(h).equals("x-amz-copy-source")) ? "COPY" : "PUT";
            default -> method;
        };
        if (operation.equals("LIST")) {
            for (String p : query.split("&")) {
                if (p.startsWith("prefix=")) {
                    key = URLDecoder.decode(p.substring("prefix=".length()), StandardCharsets.UTF_8);
                }
            }
        }
        return new Request(operation, key);
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
