package dev.coldcopy.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Processes coldcopy started and knows only by pid (qemu-nbd after {@code --fork}, a server a crashed run
 * left behind). Before signalling a pid, {@link #isOurs} checks {@code /proc/PID/cmdline}: the pid must still
 * be that program, started for that export directory — a recycled pid is never killed.
 */
public final class Processes {

    private Processes() {
    }

    public static Optional<List<String>> cmdline(long pid) {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            if (raw.length == 0) {
                return Optional.empty(); // a zombie or a kernel thread
            }
            String text = new String(raw, StandardCharsets.UTF_8);
            return Optional.of(Arrays.asList(text.split("\0")));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Alive and not a zombie (a zombie is dead; its parent just has not reaped it yet). */
    public static boolean isRunning(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            int close = stat.lastIndexOf(')');
            char state = close > 0 && close + 2 < stat.length() ? stat.charAt(close + 2) : '?';
            return state != 'Z' && state != 'X';
        } catch (IOException e) {
            return false;
        }
    }

    /** Is {@code pid} running {@code program} (compared by file name) with an argument containing {@code marker}? */
    public static boolean isOurs(long pid, String program, String marker) {
        if (!isRunning(pid)) {
            return false;
        }
        return cmdline(pid).filter(args -> !args.isEmpty()
                && Path.of(args.get(0)).getFileName().toString().equals(Path.of(program).getFileName().toString())
                && args.stream().anyMatch(a -> a.contains(marker))).isPresent();
    }

    /** SIGTERM, wait up to {@code grace}, then SIGKILL. Returns once the process is gone (or after 5 s more). */
    public static void terminate(long pid, Duration grace) {
        Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        if (handle.isEmpty()) {
            return;
        }
        handle.get().destroy();
        if (!waitGone(pid, grace)) {
            handle.get().destroyForcibly();
            waitGone(pid, Duration.ofSeconds(5));
        }
    }

    /** Waits for the process to end; an interrupt is remembered, not obeyed: cleanup must finish. */
    public static boolean waitGone(long pid, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean interrupted = false;
        try {
            while (isRunning(pid)) {
                if (System.nanoTime() > deadline) {
                    return false;
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            return true;
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The pid in a pid file, if the file exists and holds one. */
    public static Optional<Long> readPidFile(Path pidFile) {
        try {
            String text = Files.readString(pidFile).trim();
            return text.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(text));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }
}
