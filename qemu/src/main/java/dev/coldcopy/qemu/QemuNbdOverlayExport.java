package dev.coldcopy.qemu;

import dev.coldcopy.process.ProcessRunner;
import dev.coldcopy.process.Processes;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.coldcopy.checkpoint.CheckpointPlan;

/**
 * The vdsm way, for hosts without qemu-storage-daemon. qemu-nbd's {@code --bitmap NAME} uses only the first
 * layer that has NAME, so with more than one layer holding the checkpoint the bitmaps are merged into a
 * throw-away overlay first: {@code qemu-img create -b TOP} (the overlay is coldcopy's own file; the VM's
 * images are only read), {@code qemu-img bitmap --add} then {@code --merge} from each layer. A single layer
 * is exported directly with its checkpoint bitmap.
 *
 * <p>qemu-nbd runs with {@code --read-only --fork --pid-file}: its exit status says whether it started
 * (without {@code --fork} it creates the socket first and fails later). Once it serves, the overlay is
 * unlinked (qemu-nbd keeps it open), so even a crash leaves no overlay behind.
 */
public final class QemuNbdOverlayExport implements ExportServer {

    private static final Logger LOG = LoggerFactory.getLogger(QemuNbdOverlayExport.class);
    private static final String PROGRAM = "qemu-nbd";
    static final String BACKUP_BITMAP = "coldcopy-backup";
    /** Clients allowed at once; more than one makes qemu-nbd advertise multi-conn. */
    private static final int SHARED = 8;

    private final QemuTools tools;
    private final Path exportsDir;

    public QemuNbdOverlayExport(QemuTools tools, Path exportsDir) {
        this.tools = tools;
        this.exportsDir = exportsDir;
    }

    @Override
    public RunningExport start(BackingChain chain, CheckpointPlan plan) {
        ExportDirectory dir = ExportDirectory.create(exportsDir, PROGRAM);
        try {
            ImageLayer top = chain.top();
            Path target = top.path();
            String format = top.format();
            Optional<String> bitmap = Optional.empty();
            if (plan.baseBitmap().isPresent()) {
                String base = plan.baseBitmap().get();
                if (plan.baseLayers().size() == 1) {
                    bitmap = Optional.of(base);
                } else {
                    target = dir.overlay();
                    format = ImageLayer.QCOW2;
                    tools.createOverlay(target, top.path(), top.format());
                    tools.addBitmap(target, BACKUP_BITMAP, plan.granularity());
                    for (ImageLayer layer : plan.baseLayers()) {
                        tools.mergeBitmap(target, BACKUP_BITMAP, layer.path(), layer.format(), base);
                    }
                    bitmap = Optional.of(BACKUP_BITMAP);
                }
            }
            List<String> cmd = new ArrayList<>(List.of(tools.qemuNbd(), "--read-only", "--persistent",
                    "--shared=" + SHARED, "--fork", "--pid-file=" + dir.pidFile(), "--socket=" + dir.socket(),
                    "--export-name=" + EXPORT_NAME, "--format=" + format));
            bitmap.ifPresent(b -> cmd.add("--bitmap=" + b));
            cmd.add(target.toString());
            long pid = fork(cmd, dir);
            Files.deleteIfExists(dir.overlay());
            LOG.info("exporting {} ({}) via qemu-nbd pid {} on {}", top.path(), plan.describe(), pid, dir.socket());
            return new RunningExport(dir, EXPORT_NAME, bitmap, pid, PROGRAM, () -> stop(pid, dir));
        } catch (IOException | RuntimeException e) {
            Processes.readPidFile(dir.pidFile()).filter(p -> Processes.isOurs(p, tools.qemuNbd(), dir.path().toString()))
                    .ifPresent(p -> Processes.terminate(p, Duration.ofSeconds(5)));
            dir.delete();
            if (e instanceof RuntimeException re) {
                throw re;
            }
            throw new QemuException(PROGRAM + " could not be started: " + e.getMessage(), e);
        }
    }

    /** Runs qemu-nbd --fork: the parent exits once the forked server serves (0) or failed (non-zero). */
    private long fork(List<String> cmd, ExportDirectory dir) throws IOException {
        LOG.debug("starting {}", cmd);
        // output to a file, not a pipe: the forked server would hold a pipe open for its whole life
        Process parent = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.log().toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        boolean interrupted = false;
        try {
            long deadline = System.nanoTime() + tools.timeout().toNanos();
            while (true) {
                try {
                    if (!parent.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                        ProcessRunner.kill(parent);
                        throw new QemuTimeoutException(PROGRAM + " did not start within " + tools.timeout().toMillis()
                                + " ms: " + dir.logText());
                    }
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // let the parent finish: it exits within moments, and its child must be known
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        if (parent.exitValue() != 0) {
            String log = dir.logText();
            if (QemuTools.isLockError(log)) {
                throw new VmRunningException(log);
            }
            throw new QemuException(PROGRAM + " failed to start (exit " + parent.exitValue() + "): "
                    + (log.isEmpty() ? "no message" : log));
        }
        long pid = Processes.readPidFile(dir.pidFile())
                .orElseThrow(() -> new QemuException(PROGRAM + " started but wrote no pid file " + dir.pidFile()));
        if (interrupted) {
            throw new QemuException(PROGRAM + " start was interrupted");
        }
        return pid;
    }

    private void stop(long pid, ExportDirectory dir) {
        if (Processes.isOurs(pid, tools.qemuNbd(), dir.path().toString())) {
            Processes.terminate(pid, Duration.ofSeconds(5));
        }
    }
}
