package dev.coldcopy.repository.testing;

import dev.coldcopy.repository.RepositoryUri;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * s3proxy 4.1.0 as a separate process (filesystem storage, AWS v2/v4 auth) on a loopback port.
 * The jar comes from system property {@code s3proxy.jar}, else {@code target/s3proxy.jar} (copied there by
 * the repository module's build), else the local Maven repository. {@link #stop()} and {@link #start()}
 * simulate an outage (same port, same data).
 */
public final class S3ProxyServer implements AutoCloseable {
    public static final String ACCESS_KEY = "coldcopy-test-access";
    public static final String SECRET_KEY = "coldcopy-test-secret-Zq81";
    public static final String REGION = "us-east-1";

    private final Path dir;
    private final Path data;
    private final Path properties;
    private final Path log;
    private final int port;
    private Process process;

    private S3ProxyServer(Path dir, boolean authorization) throws IOException {
        this.dir = dir;
        this.data = Files.createDirectories(dir.resolve("data"));
        this.properties = dir.resolve("s3proxy.properties");
        this.log = dir.resolve("s3proxy.log");
        this.port = freePort();
        Files.writeString(properties, String.join("\n",
                "s3proxy.endpoint=http://127.0.0.1:" + port,
                "s3proxy.authorization=" + (authorization ? "aws-v2-or-v4" : "none"),
                "s3proxy.identity=" + ACCESS_KEY,
                "s3proxy.credential=" + SECRET_KEY,
                "jclouds.provider=filesystem",
                "jclouds.filesystem.basedir=" + data,
                "jclouds.identity=" + ACCESS_KEY,
                "jclouds.credential=" + SECRET_KEY,
                ""));
    }

    /** starts a server keeping its files in dir */
    public static S3ProxyServer start(Path dir) throws IOException {
        return start(dir, true);
    }

    /**
     * starts a server; without authorization it accepts any request (so that a proxy in a test may change
     * what it forwards without breaking the signature)
     */
    public static S3ProxyServer start(Path dir, boolean authorization) throws IOException {
        S3ProxyServer s = new S3ProxyServer(dir, authorization);
        s.start();
        return s;
    }

    public static Path jar() {
        String prop = System.getProperty("s3proxy.jar");
        if (prop != null && Files.isReadable(Path.of(prop))) {
            return Path.of(prop);
        }
        for (Path p : List.of(Path.of("target", "s3proxy.jar"), Path.of("repository", "target", "s3proxy.jar"),
                Path.of(System.getProperty("user.home"), ".m2", "repository", "org", "gaul", "s3proxy", "4.1.0",
                        "s3proxy-4.1.0-jar-with-dependencies.jar"))) {
            if (Files.isReadable(p)) {
                return p.toAbsolutePath();
            }
        }
        throw new IllegalStateException("s3proxy jar not found: build the repository module (it copies target/s3proxy.jar) or set -Ds3proxy.jar");
    }

    /** (re)starts the process on the same port with the same data */
    public synchronized void start() throws IOException {
        if (process != null && process.isAlive()) {
            return;
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        process = new ProcessBuilder(java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-jar", jar().toString(), "--properties", properties.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("s3proxy exited with " + process.exitValue() + ": " + tail());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException e) {
                sleep(100);
            }
        }
        stop();
        throw new IOException("s3proxy did not listen on port " + port + " within 60 s: " + tail());
    }

    /** kills the process (an outage); data stays */
    public synchronized void stop() {
        if (process != null) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process = null;
        }
    }

    public synchronized boolean running() {
        return process != null && process.isAlive();
    }

    public void createBucket(String bucket) {
        try {
            // the filesystem provider keeps a bucket as a directory
            Files.createDirectories(data.resolve(bucket));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        return port;
    }

    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    /** where objects of a bucket live on disk (to damage or count them in tests) */
    public Path bucketDir(String bucket) {
        return data.resolve(bucket);
    }

    /** a repository URI for this server; credentials are NOT in it (give them through RepositoryOptions) */
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
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop();
    }

    @Override
    public String toString() {
        return "s3proxy at " + endpoint() + " (" + dir + ")";
    }
}
