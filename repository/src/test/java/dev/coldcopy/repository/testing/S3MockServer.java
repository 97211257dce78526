package dev.coldcopy.repository.testing;

import dev.coldcopy.repository.RepositoryUri;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Adobe S3Mock (a second S3 implementation, independent of s3proxy: Spring Boot, its own request parsing
 * and storage) as a separate process on loopback ports, with its buckets created at start. It accepts any
 * credentials. The jar comes from system property {@code s3mock.jar}, else {@code target/s3mock.jar}
 * (copied there by the repository module's build from Maven Central).
 */
public final class S3MockServer implements AutoCloseable {
    public static final String ACCESS_KEY = "coldcopy-s3mock-access";
    public static final String SECRET_KEY = "coldcopy-s3mock-secret";
    public static final String REGION = "us-east-1";

    private final Path dir;
    private final Path log;
    private final int port;
    private final Process process;

    private S3MockServer(Path dir, List<String> buckets) throws IOException {
        this.dir = dir;
        this.log = dir.resolve("s3mock.log");
        Path root = Files.createDirectories(dir.resolve("store"));
        this.port = freePort();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        this.process = new ProcessBuilder(java, "-Xmx384m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", jar().toString(),
                "--server.port=" + freePort(), // the HTTPS connector, unused
                "--com.adobe.testing.s3mock.httpPort=" + port,
                "--server.address=127.0.0.1",
                "--com.adobe.testing.s3mock.store.root=" + root,
                "--com.adobe.testing.s3mock.store.initialBuckets=" + String.join(",", buckets),
                "--com.adobe.testing.s3mock.store.retainFilesOnExit=false",
                "--spring.main.banner-mode=off",
                "--logging.level.root=WARN")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
    }

    public static S3MockServer start(Path dir, String... buckets) throws IOException {
        S3MockServer s = new S3MockServer(dir, List.of(buckets));
        try {
            s.awaitReady();
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    public static Path jar() {
        String prop = System.getProperty("s3mock.jar");
        if (prop != null && Files.isReadable(Path.of(prop))) {
            return Path.of(prop);
        }
        for (Path p : List.of(Path.of("target", "s3mock.jar"), Path.of("repository", "target", "s3mock.jar"),
                Path.of("..", "repository", "target", "s3mock.jar"))) {
            if (Files.isReadable(p)) {
                return p.toAbsolutePath();
            }
        }
        throw new IllegalStateException("s3mock jar not found: build the repository module (it copies target/s3mock.jar) or set -Ds3mock.jar");
    }

    /** ready once it answers ListBuckets over HTTP (the port opens before the application has started) */
    private void awaitReady() throws IOException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("s3mock exited with " + process.exitValue() + ": " + tail());
            }
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(endpoint() + "/")).timeout(Duration.ofSeconds(2)).GET().build(),
                        HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while starting s3mock");
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while starting s3mock");
            }
        }
        throw new IOException("s3mock did not answer on port " + port + " within 90 s: " + tail());
    }

    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    /** a repository URI for this server with the defaults the README documents (none set: non-AWS defaults) */
    public RepositoryUri repositoryUri(String bucket, String prefix) {
        return RepositoryUri.parse("s3://" + bucket + "/" + prefix + "?endpoint=" + endpoint() + "&region=" + REGION);
    }

    private String tail() {
        try {
            String s = Files.readString(log);
            return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
        } catch (IOException e) {
            return "(no log)";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    @Override
    public String toString() {
        return "s3mock at " + endpoint() + " (" + dir + ")";
    }
}
