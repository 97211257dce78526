package dev.coldcopy.nbd.testing;

import dev.coldcopy.testing.Tools;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A long-running server process started for a test: stderr and stdout go to a log file, the process
 * tree is killed on close, and {@link #awaitUnixSocket}/{@link #awaitTcpPort} wait until it accepts.
 */
public class ExternalProcess implements AutoCloseable {
    private final List<String> command;
    private final Process process;
    private final Path log;

    public ExternalProcess(List<String> command, Path log) {
        this.command = List.copyOf(command);
        this.log = log;
        try {
            this.process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command.get(0) + ": " + e.getMessage(), e);
        }
    }

    public Process process() {
        return process;
    }

    public long pid() {
        return process.pid();
    }

    public String log() {
        try {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(log unreadable: " + e.getMessage() + ")";
        }
    }

    /** Waits until a client can connect to the Unix socket, or fails with the server's log. */
    public void awaitUnixSocket(Path socket, Duration timeout) {
        awaitAccepting(() -> {
            if (!Files.exists(socket)) {
                return false;
            }
            try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                ch.connect(UnixDomainSocketAddress.of(socket));
                return true;
            }
        }, timeout);
    }

    /** Waits until a client can connect to 127.0.0.1:port, or fails with the server's log. */
    public void awaitTcpPort(int port, Duration timeout) {
        awaitAccepting(() -> {
            try (SocketChannel ch = SocketChannel.open()) {
                ch.connect(new InetSocketAddress("127.0.0.1", port));
                return true;
            }
        }, timeout);
    }

    private interface Probe {
        boolean accepting() throws IOException;
    }

    private void awaitAccepting(Probe probe, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException(command.get(0) + " exited with " + process.exitValue() + ": " + log().strip());
            }
            try {
                if (probe.accepting()) {
                    return;
                }
            } catch (IOException e) {
                // not yet listening
            }
            if (System.nanoTime() > deadline) {
                close();
                throw new IllegalStateException(command.get(0) + " did not start listening within " + timeout + ": " + log().strip());
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new IllegalStateException("interrupted waiting for " + command.get(0), e);
            }
        }
    }

    /** SIGKILL, without waiting for anything (to test a server dying under load). */
    public void kill() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    @Override
    public void close() {
        Tools.killTree(process);
    }
}
