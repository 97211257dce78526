package dev.coldcopy.backup;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.coldcopy.process.Processes;
import dev.coldcopy.qemu.ProcessOwner;
import dev.coldcopy.qemu.QemuTools;

/**
 * Makes sure nothing a coldcopy JVM started outlives it, not even after a SIGKILL: no qemu-storage-daemon or
 * qemu-nbd holding the image's lock (the VM could not start), no uncommitted checkpoint bitmap in the image.
 *
 * <p>Java cannot ask the kernel to kill a child with its parent ({@code prctl(PR_SET_PDEATHSIG)} needs native
 * code, and it fires when the <em>thread</em> that started the child ends, not the process; qemu-nbd
 * {@code --fork} would lose it anyway). A pipe, though, is closed by the kernel however a process dies. So
 * the first backup of a JVM starts one small watchdog process (this class's {@link #main}, on the same class
 * path) whose stdin is a pipe the JVM holds open and never writes. When the JVM is gone the watchdog reads
 * EOF, waits until the JVM's pid is really gone, and runs the {@link Reaper} on the work directory: the
 * same, already careful, code that otherwise runs at the next start (it stops only servers whose
 * {@code /proc/PID/cmdline} shows they serve an export directory of a dead owner, and removes only journaled
 * checkpoints of a dead owner). A normal exit closes the pipe too; the reaper then finds nothing to do.
 *
 * <p>The watchdog runs in its own session ({@code setsid}) so that the terminal's Ctrl-C, which reaches the
 * whole foreground process group, does not stop it before the JVM it watches.
 */
public final class Watchdog {

    private static final Logger LOG = LoggerFactory.getLogger(Watchdog.class);
    private static final Map<Path, Process> RUNNING = new ConcurrentHashMap<>();
    /** How long the watchdog waits after EOF for the watched JVM to be gone (a normal exit takes moments). */
    private static final Duration OWNER_EXIT_WAIT = Duration.ofSeconds(60);
    static final String LOG_FILE = "watchdog.log";

    private Watchdog() {
    }

    /** Starts this JVM's watchdog for {@code runDir} unless it runs already. */
    public static void ensureRunning(RunDirectory runDir, QemuTools tools) {
        RUNNING.compute(runDir.root(), (root, existing) -> {
            if (existing != null && existing.isAlive()) {
                return existing;
            }
            return start(runDir, tools);
        });
    }

    /** This JVM's watchdog for {@code runDir}, if started (for tests). */
    static java.util.Optional<Process> of(RunDirectory runDir) {
        return java.util.Optional.ofNullable(RUNNING.get(runDir.root()));
    }

    private static Process start(RunDirectory runDir, QemuTools tools) {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
            cmd.add("/usr/bin/setsid"); // not in the terminal's process group: a Ctrl-C is the JVM's to handle
        }
        // a small heap and no C2: it reads one pipe and, once, runs a few qemu-img commands
        cmd.addAll(List.of(java, "-Xmx32m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                "-cp", System.getProperty("java.class.path"), Watchdog.class.getName(),
                ProcessOwner.current().encode(), runDir.root().toString(),
                tools.qemuImg(), tools.qemuIo(), tools.qemuNbd(), tools.qemuStorageDaemon()));
        try {
            File log = runDir.root().resolve(LOG_FILE).toFile();
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log)).start();
            // the pipe to its stdin stays open as long as this JVM lives: that is the whole signal
            LOG.debug("watchdog pid {} for {}", p.pid(), runDir.root());
            return p;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the watchdog process (" + cmd.get(0) + "): " + e.getMessage(), e);
        }
    }

    /** args: OWNER (pid start-millis) RUN_DIR QEMU_IMG QEMU_IO QEMU_NBD QEMU_STORAGE_DAEMON */
    public static void main(String[] args) throws IOException {
        ProcessOwner owner = ProcessOwner.decode(args[0]).orElseThrow(() -> new IllegalArgumentException("owner: " + args[0]));
        Path runDir = Path.of(args[1]);
        QemuTools tools = new QemuTools(args[2], args[3], args[4], args[5], Duration.ofSeconds(60));
        InputStream in = System.in;
        byte[] buf = new byte[64];
        while (in.read(buf) >= 0) {
            // nothing is ever written; EOF is the message
        }
        long deadline = System.nanoTime() + OWNER_EXIT_WAIT.toNanos();
        while (owner.isAlive() && System.nanoTime() < deadline) {
            Processes.waitGone(owner.pid(), Duration.ofMillis(200));
        }
        if (owner.isAlive()) {
            say("coldcopy pid " + owner.pid() + " closed the pipe but still runs; leaving its state to the next start");
            return;
        }
        for (String line : new Reaper(runDir, tools).reap()) {
            say(line);
        }
    }

    private static void say(String line) {
        System.out.println(Instant.now() + " watchdog: " + line);
        System.out.flush();
    }
}
