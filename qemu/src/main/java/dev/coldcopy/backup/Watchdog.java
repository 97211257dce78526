package dev.coldcopy.backup;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

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
 * path) whose stdin is a pipe the JVM holds open; the JVM writes to it only the work directories it uses,
 * one per line. When the JVM is gone the watchdog reads EOF, waits until the JVM's pid is really gone, and
 * runs the {@link Reaper} on each of those work directories: the same, already careful, code that
 * otherwise runs at the next start (it stops only servers whose {@code /proc/PID/cmdline} shows they serve
 * an export directory of a dead owner, and removes only journaled checkpoints of a dead owner). A normal
 * exit closes the pipe too; the reaper then finds nothing to do.
 *
 * <p>The watchdog runs in its own session ({@code setsid}) so that the terminal's Ctrl-C, which reaches the
 * whole foreground process group, does not stop it before the JVM it watches.
 */
public final class Watchdog {

    private static final Logger LOG = LoggerFactory.getLogger(Watchdog.class);
    /** How long the watchdog waits after EOF for the watched JVM to be gone (a normal exit takes moments). */
    private static final Duration OWNER_EXIT_WAIT = Duration.ofSeconds(60);
    static final String LOG_FILE = "watchdog.log";

    private static Process process;
    private static Writer pipe;
    private static final Set<Path> WATCHED = new LinkedHashSet<>();

    private Watchdog() {
    }

    /** Starts this JVM's watchdog unless it runs already, and has it watch {@code runDir}. */
    public static synchronized void ensureRunning(RunDirectory runDir, QemuTools tools) {
        if (process != null && process.isAlive() && WATCHED.contains(runDir.root())) {
            return;
        }
        try {
            if (process == null || !process.isAlive()) {
                process = start(runDir, tools);
                pipe = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
                for (Path watched : WATCHED) {
                    pipe.write(watched + "\n");
                }
            }
            pipe.write(runDir.root() + "\n");
            pipe.flush();
            WATCHED.add(runDir.root());
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the watchdog process: " + e.getMessage(), e);
        }
    }

    /** This JVM's watchdog, if started (for tests). */
    static synchronized Optional<Process> process() {
        return Optional.ofNullable(process);
    }

    private static Process start(RunDirectory runDir, QemuTools tools) throws IOException {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
            cmd.add("/usr/bin/setsid"); // not in the terminal's process group: a Ctrl-C is the JVM's to handle
        }
        // a small heap and no C2: it reads one pipe and, once, runs a few qemu-img commands
        cmd.addAll(List.of(java, "-Xmx32m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                "-cp", System.getProperty("java.class.path"), Watchdog.class.getName(),
                ProcessOwner.current().encode(), tools.qemuImg(), tools.qemuIo(), tools.qemuNbd(), tools.qemuStorageDaemon()));
        // its log goes beside the first work directory it watches
        File log = runDir.root().resolve(LOG_FILE).toFile();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log)).start();
        LOG.debug("watchdog pid {}", p.pid());
        return p;
    }

    /** args: OWNER (pid start-millis) QEMU_IMG QEMU_IO QEMU_NBD QEMU_STORAGE_DAEMON; stdin: work directories, one a line */
    public static void main(String[] args) throws IOException {
        ProcessOwner owner = ProcessOwner.decode(args[0]).orElseThrow(() -> new IllegalArgumentException("owner: " + args[0]));
        QemuTools tools = new QemuTools(args[1], args[2], args[3], args[4], Duration.ofSeconds(60));
        Set<Path> runDirs = new LinkedHashSet<>();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            if (!line.isBlank()) {
                runDirs.add(Path.of(line.trim()));
            }
        }
        // EOF: the JVM has closed the pipe, by exiting or by being killed
        long deadline = System.nanoTime() + OWNER_EXIT_WAIT.toNanos();
        while (owner.isAlive() && System.nanoTime() < deadline) {
            Processes.waitGone(owner.pid(), Duration.ofMillis(200));
        }
        if (owner.isAlive()) {
            say("coldcopy pid " + owner.pid() + " closed the pipe but still runs; leaving its state to the next start");
            return;
        }
        for (Path runDir : runDirs) {
            if (Files.isDirectory(runDir)) { // a work directory removed meanwhile has nothing left to undo
                for (String line : new Reaper(runDir, tools).reap()) {
                    say(line);
                }
            }
        }
    }

    private static void say(String line) {
        System.out.println(Instant.now() + " watchdog: " + line);
        System.out.flush();
    }
}
