package dev.coldcopy.qemu;

import dev.coldcopy.process.ProcessRunner;
import dev.coldcopy.process.Processes;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One qemu-nbd serving one image on the Unix socket of its {@link ExportDirectory}, owned until
 * {@link #stop}. Every qemu-nbd coldcopy runs starts here, with {@code --fork --pid-file}: the parent exits
 * once the forked server serves (0) or failed to (non-zero), so its exit status is the answer to "did it
 * start" (without {@code --fork} qemu-nbd creates the socket first and fails later).
 *
 * <p>The server is not our child after the fork, so it is known by its pid only; before any signal,
 * {@link Processes#isOurs} checks the pid still runs qemu-nbd for this directory (a recycled pid is never
 * killed). The directory itself belongs to the caller.
 */
public final class QemuNbdProcess implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(QemuNbdProcess.class);
    static final String PROGRAM = "qemu-nbd";
    private static final Duration STOP_GRACE = Duration.ofSeconds(5);

    private final String program;
    private final ExportDirectory dir;
    private final long pid;
    private final AtomicBoolean stopped = new AtomicBoolean();

    private QemuNbdProcess(String program, ExportDirectory dir, long pid) {
        this.program = program;
        this.dir = dir;
        this.pid = pid;
    }

    /**
     * Runs {@code qemu-nbd --fork --pid-file=PID --socket=SOCKET OPTIONS... IMAGE} and returns once it serves.
     * On any failure no server is left running; a lock error (a VM has the image) is a
     * {@link VmRunningException}.
     */
    public static QemuNbdProcess start(QemuTools tools, ExportDirectory dir, List<String> options, Path image) {
        List<String> cmd = new ArrayList<>(List.of(tools.qemuNbd(), "--fork", "--pid-file=" + dir.pidFile(),
                "--socket=" + dir.socket()));
        cmd.addAll(options);
        cmd.add(image.toString());
        try {
            awaitParent(cmd, dir, tools.timeout());
            long pid = Processes.readPidFile(dir.pidFile())
                    .orElseThrow(() -> new QemuException(PROGRAM + " started but wrote no pid file " + dir.pidFile()));
            return new QemuNbdProcess(tools.qemuNbd(), dir, pid);
        } catch (IOException | RuntimeException e) {
            Processes.readPidFile(dir.pidFile()).ifPresent(pid -> new QemuNbdProcess(tools.qemuNbd(), dir, pid).close());
            if (e instanceof RuntimeException re) {
                throw re;
            }
            throw new QemuException(PROGRAM + " could not be started: " + e.getMessage(), e);
        }
    }

    /** Waits for the forking parent; an interrupt lets it finish (it exits within moments) and then fails the start. */
    private static void awaitParent(List<String> cmd, ExportDirectory dir, Duration timeout) throws IOException {
        LOG.debug("starting {}", cmd);
        // output to a file, not a pipe: the forked server would hold a pipe open for its whole life
        Process parent = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.log().toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        boolean interrupted = false;
        try {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                try {
                    if (!parent.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                        ProcessRunner.kill(parent);
                        throw new QemuTimeoutException(PROGRAM + " did not start within " + timeout.toMillis() + " ms: "
                                + dir.logText());
                    }
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        checkStarted(parent.exitValue(), dir);
        if (interrupted) {
            throw new QemuException(PROGRAM + " start was interrupted");
        }
    }

    private static void checkStarted(int exitValue, ExportDirectory dir) {
        if (exitValue == 0) {
            return;
        }
        String log = dir.logText();
        if (QemuTools.isLockError(log)) {
            throw new VmRunningException(log);
        }
        throw new QemuException(PROGRAM + " failed to start (exit " + exitValue + "): " + (log.isEmpty() ? "no message" : log));
    }

    public long pid() {
        return pid;
    }

    public Path socket() {
        return dir.socket();
    }

    /** SIGTERM, then SIGKILL after {@code grace}; once only, and a server already gone is fine. */
    public void stop(Duration grace) {
        if (stopped.compareAndSet(false, true) && Processes.isOurs(pid, program, dir.path().toString())) {
            Processes.terminate(pid, grace);
        }
    }

    @Override
    public void close() {
        stop(STOP_GRACE);
    }
}
