package dev.coldcopy.process;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one external program from an argument list (never through a shell), with a timeout, and captures
 * stdout and stderr. Two modes, because what an interrupt may do differs:
 * <ul>
 * <li>{@link #run} (reads): an interrupt kills the program and is rethrown as a {@link QemuException}
 * with the thread's interrupt flag set;</li>
 * <li>{@link #runToCompletion} (writes to an image, e.g. {@code qemu-img bitmap --add}): an interrupt is
 * remembered but the program is allowed to finish (up to its timeout), since killing it halfway through a
 * metadata update is worse than waiting a few milliseconds.</li>
 * </ul>
 * {@link #output} is {@link #run} for a program that must succeed: its stdout, or a one-line reason.
 */
public final class ProcessRunner {

    private static final Logger LOG = LoggerFactory.getLogger(ProcessRunner.class);
    /** Output beyond this is dropped: a misbehaving program must not fill the heap. */
    private static final int MAX_CAPTURE = 16 * 1024 * 1024;

    private ProcessRunner() {
    }

    public static ProcessResult run(List<String> command, Duration timeout) {
        return execute(command, timeout, false);
    }

    /** Runs a program that must exit 0; returns its stdout, else fails with its stderr on one line. */
    public static String output(List<String> command, Duration timeout) {
        ProcessResult r = run(command, timeout);
        if (!r.succeeded()) {
            String reason = r.stderrOneLine();
            throw new ProcessException(command.get(0) + " failed (exit " + r.exitCode() + "): "
                    + (reason.isEmpty() ? String.join(" ", command) : reason));
        }
        return r.stdout();
    }

    public static ProcessResult runToCompletion(List<String> command, Duration timeout) {
        return execute(command, timeout, true);
    }

    private static ProcessResult execute(List<String> command, Duration timeout, boolean uninterruptible) {
        String program = command.get(0);
        LOG.debug("running {}", command);
        Process process;
        try {
            process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
        } catch (IOException e) {
            throw new ProcessException(program + " could not be started: " + e.getMessage(), e);
        }
        Drain out = new Drain(process.getInputStream());
        Drain err = new Drain(process.getErrorStream());
        boolean interrupted = false;
        try {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                try {
                    if (!process.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                        kill(process);
                        throw new ProcessTimeoutException(program + " did not finish within " + timeout.toMillis()
                                + " ms and was killed" + suffix(err));
                    }
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                    if (!uninterruptible) {
                        kill(process);
                        throw new ProcessException(program + " was interrupted and killed");
                    }
                }
            }
            return new ProcessResult(List.copyOf(command), process.exitValue(), out.await(), err.await());
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static String suffix(Drain err) {
        String text = err.soFar();
        return text.isBlank() ? "" : ": " + ProcessResult.oneLine(text);
    }

    public static void kill(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Reads one output stream on its own thread so that neither pipe can fill up and stall the program. */
    private static final class Drain {
        private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        private final CountDownLatch done = new CountDownLatch(1);

        Drain(InputStream in) {
            Thread reader = new Thread(() -> {
                byte[] chunk = new byte[8192];
                try (in) {
                    int n;
                    while ((n = in.read(chunk)) >= 0) {
                        synchronized (buffer) {
                            if (buffer.size() + n <= MAX_CAPTURE) {
                                buffer.write(chunk, 0, n);
                            }
                        }
                    }
                } catch (IOException e) {
                    // the program went away; keep what was read
                } finally {
                    done.countDown();
                }
            }, "process-output");
            reader.setDaemon(true);
            reader.start();
        }

        String soFar() {
            synchronized (buffer) {
                return buffer.toString(StandardCharsets.UTF_8);
            }
        }

        /** The stream closes when the program exits, unless it left a child holding it: bound the wait. */
        String await() {
            try {
                done.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return soFar();
        }
    }
}
