package dev.coldcopy.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a program from an argument list (never a shell) with a timeout, for test fixtures. */
final class Programs {

    /** What a finished program left: its exit status and both outputs. */
    record Result(List<String> command, int exitCode, String stdout, String stderr) {
        Result orFail() {
            if (exitCode != 0) {
                throw new IllegalStateException("exit " + exitCode + ": " + String.join(" ", command) + ": "
                        + (stderr + stdout).strip());
            }
            return this;
        }
    }

    private Programs() {
    }

    /**
     * Outputs go to files, not pipes: a program that leaves a child behind (qemu-nbd --fork) cannot then
     * hold the caller up.
     */
    static Result run(Duration timeout, List<String> command) {
        try {
            Path out = Files.createTempFile("program-out", ".txt");
            Path err = Files.createTempFile("program-err", ".txt");
            try {
                Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
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

    /** The command line of a running process (not a zombie), empty if there is none. */
    static String cmdline(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            int close = stat.lastIndexOf(')');
            char state = close > 0 && close + 2 < stat.length() ? stat.charAt(close + 2) : '?';
            if (state == 'Z' || state == 'X') {
                return "";
            }
            byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            return new String(raw, StandardCharsets.UTF_8).replace('\0', ' ').strip();
        } catch (IOException e) {
            return "";
        }
    }
}
