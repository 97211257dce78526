package dev.coldcopy.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs external programs for tests (argument lists, never a shell) with a timeout; failures carry stderr. */
public final class Tools {
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(120);

    /** What a finished program left: its exit status and both outputs. */
    public record Result(List<String> command, int exitCode, String stdout, String stderr) {
        /** This result if the program exited 0, else an IllegalStateException with its stderr. */
        public Result orFail() {
            if (exitCode != 0) {
                throw new IllegalStateException("exit " + exitCode + ": " + String.join(" ", command) + ": " + stderr.strip());
            }
            return this;
        }
    }

    private Tools() {
    }

    /** Runs the command and returns its stdout; IllegalStateException with stderr on failure or timeout. */
    public static String run(Duration timeout, List<String> command) {
        return result(timeout, command).orFail().stdout();
    }

    public static String run(String... command) {
        return run(DEFAULT_TIMEOUT, List.of(command));
    }

    /**
     * Runs the command whatever its exit status. Outputs go to files, not pipes: a program that leaves a
     * child behind (qemu-nbd --fork) cannot then hold the caller up.
     */
    public static Result result(Duration timeout, List<String> command) {
        try {
            Path out = Files.createTempFile("tool-out", ".txt");
            Path err = Files.createTempFile("tool-err", ".txt");
            try {
                Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    killTree(p);
                    throw new IllegalStateException("timed out after " + timeout + ": " + String.join(" ", command)
                            + ": " + Files.readString(err, StandardCharsets.UTF_8).strip());
                }
                return new Result(List.copyOf(command), p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command.get(0) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + command.get(0), e);
        }
    }

    /** Ends the process and all its descendants: SIGTERM, then SIGKILL after 5 s. */
    public static void killTree(Process p) {
        List<ProcessHandle> children = p.descendants().toList();
        p.destroy();
        children.forEach(ProcessHandle::destroy);
        try {
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
        children.forEach(ProcessHandle::destroyForcibly);
    }

    /** A loopback port that was free a moment ago. */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** True when the program is on the PATH. */
    public static boolean available(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }
}
