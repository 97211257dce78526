package dev.coldcopy.nbd.testing;

import dev.coldcopy.testing.Tools;
import dev.coldcopy.nbd.protocol.NbdUri;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Debian's reference {@code nbd-server}, started with a config file of its own: a {@code [generic]}
 * section (a free loopback port, export listing allowed) and one section per export. nbd-server forks
 * a daemon (its {@code -d} mode serves a single connection and exits), so it is tracked by its pid file
 * and ended with its per-connection children on {@link #close()}.
 * <pre>NbdServerDaemon.builder().export("disk", file, "readonly = true").start()</pre>
 */
public final class NbdServerDaemon implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(20);

    private final Path dir;
    private final int port;
    private final ProcessHandle daemon;

    private NbdServerDaemon(Path dir, int port, ProcessHandle daemon) {
        this.dir = dir;
        this.port = port;
        this.daemon = daemon;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The URI of one export. */
    public NbdUri uri(String exportName) {
        return new NbdUri(NbdUri.Transport.TCP, "127.0.0.1", port, null, exportName, false);
    }

    public int port() {
        return port;
    }

    @Override
    public void close() {
        List<ProcessHandle> children = daemon.descendants().toList();
        daemon.destroy();
        children.forEach(ProcessHandle::destroy);
        try {
            daemon.onExit().get(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            daemon.destroyForcibly();
        }
        children.forEach(ProcessHandle::destroyForcibly);
        SocketDirs.delete(dir);
    }

    public static final class Builder {
        private final Map<String, List<String>> exports = new LinkedHashMap<>();

        private Builder() {
        }

        /** An export section: {@code exportname = file} plus settings such as {@code "readonly = true"}. */
        public Builder export(String name, Path file, String... settings) {
            List<String> lines = new ArrayList<>();
            lines.add("exportname = " + file.toAbsolutePath());
            lines.addAll(List.of(settings));
            exports.put(name, lines);
            return this;
        }

        public NbdServerDaemon start() {
            Path dir = SocketDirs.create();
            try {
                int port = Tools.freePort();
                StringBuilder config = new StringBuilder("[generic]\n")
                        .append("    port = ").append(port).append('\n')
                        .append("    listenaddr = 127.0.0.1\n")
                        .append("    allowlist = true\n");
                exports.forEach((name, lines) -> {
                    config.append('[').append(name).append("]\n");
                    lines.forEach(l -> config.append("    ").append(l).append('\n'));
                });
                Path configFile = Files.writeString(dir.resolve("nbd-server.conf"), config);
                Path pidFile = dir.resolve("nbd-server.pid");
                // the parent exits once the daemon has forked; errors after that go to syslog only
                Tools.run(START_TIMEOUT, List.of("nbd-server", "-C", configFile.toString(), "-p", pidFile.toString()));
                ProcessHandle daemon = awaitDaemon(pidFile);
                NbdServerDaemon server = new NbdServerDaemon(dir, port, daemon);
                awaitPort(server, port);
                return server;
            } catch (IOException e) {
                SocketDirs.delete(dir);
                throw new UncheckedIOException(e);
            } catch (RuntimeException e) {
                SocketDirs.delete(dir);
                throw e;
            }
        }

        private static ProcessHandle awaitDaemon(Path pidFile) throws IOException {
            long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
            while (System.nanoTime() < deadline) {
                if (Files.exists(pidFile)) {
                    String pid = Files.readString(pidFile).strip();
                    if (!pid.isEmpty()) {
                        Optional<ProcessHandle> handle = ProcessHandle.of(Long.parseLong(pid));
                        return handle.orElseThrow(() -> new IllegalStateException("nbd-server (pid " + pid + ") exited at start"));
                    }
                }
                sleep();
            }
            throw new IllegalStateException("nbd-server wrote no pid file within " + START_TIMEOUT);
        }

        private static void awaitPort(NbdServerDaemon server, int port) {
            long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
            while (true) {
                try (SocketChannel ch = SocketChannel.open()) {
                    ch.connect(new InetSocketAddress("127.0.0.1", port));
                    return;
                } catch (IOException e) {
                    if (!server.daemon.isAlive() || System.nanoTime() > deadline) {
                        server.close();
                        throw new IllegalStateException("nbd-server did not start listening on port " + port
                                + " (see syslog for its reason)");
                    }
                }
                sleep();
            }
        }

        private static void sleep() {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for nbd-server", e);
            }
        }
    }
}
