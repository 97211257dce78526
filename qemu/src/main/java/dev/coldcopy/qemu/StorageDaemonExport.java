package dev.coldcopy.qemu;

import dev.coldcopy.process.ProcessRunner;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.coldcopy.checkpoint.CheckpointPlan;

/**
 * The libvirt way: qemu-storage-daemon opens the whole chain read-only ({@code --blockdev} nodes, one file
 * and one format node per layer), then over QMP a temporary, disabled, non-persistent bitmap is added to the
 * top node and the checkpoint of every layer holding it is merged into it, and the top node is exported
 * read-only with that bitmap. Nothing is written to any image file; the merged bitmap lives only in the
 * daemon's memory.
 */
public final class StorageDaemonExport implements ExportServer {

    private static final Logger LOG = LoggerFactory.getLogger(StorageDaemonExport.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PROGRAM = "qemu-storage-daemon";
    /** The temporary bitmap's name (in memory only); prefixed so it cannot be taken for a checkpoint. */
    static final String BACKUP_BITMAP = "coldcopy-backup";

    private final QemuTools tools;
    private final Path exportsDir;

    public StorageDaemonExport(QemuTools tools, Path exportsDir) {
        this.tools = tools;
        this.exportsDir = exportsDir;
    }

    @Override
    public RunningExport start(BackingChain chain, CheckpointPlan plan) {
        ExportDirectory dir = ExportDirectory.create(exportsDir, PROGRAM);
        Process process = null;
        QmpClient qmp = null;
        try {
            process = launch(chain, dir);
            qmp = awaitMonitor(process, dir);
            Optional<String> bitmap = plan.baseBitmap().isPresent() ? Optional.of(mergeDirtyBitmap(qmp, chain, plan))
                    : Optional.empty();
            exportOverNbd(qmp, dir, bitmap);
            Process started = process;
            QmpClient monitor = qmp;
            LOG.info("exporting {} ({}) via qemu-storage-daemon pid {} on {}", chain.top().path(), plan.describe(),
                    process.pid(), dir.socket());
            return new RunningExport(dir, EXPORT_NAME, bitmap, process.pid(), PROGRAM, () -> stop(started, monitor));
        } catch (IOException | RuntimeException e) {
            if (qmp != null) {
                qmp.close();
            }
            if (process != null) {
                ProcessRunner.kill(process);
            }
            throw startFailed(e, dir);
        }
    }

    /** The daemon with every layer opened read-only as a file node and a format node, bottom first. */
    private Process launch(BackingChain chain, ExportDirectory dir) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(tools.qemuStorageDaemon(), "--pidfile", dir.pidFile().toString()));
        for (int i = chain.depth() - 1; i >= 0; i--) {
            cmd.add("--blockdev");
            cmd.add(fileNode(chain.layers().get(i), i));
            cmd.add("--blockdev");
            cmd.add(formatNode(chain, i));
        }
        // the monitor last: once its socket answers, every block node above is open
        cmd.addAll(List.of("--chardev", "socket,id=qmp,path=" + dir.qmpSocket() + ",server=on,wait=off",
                "--monitor", "chardev=qmp"));
        LOG.debug("starting {}", cmd);
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.log().toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    }

    /**
     * The plan's checkpoint from every layer that holds it, merged into one temporary bitmap on the top node
     * (in memory only: nothing is written to the images). Returns its name.
     */
    private static String mergeDirtyBitmap(QmpClient qmp, BackingChain chain, CheckpointPlan plan) {
        String base = plan.baseBitmap().orElseThrow();
        List<Map<String, Object>> sources = new ArrayList<>();
        for (ImageLayer layer : plan.baseLayers()) {
            sources.add(Map.of("node", formatNodeName(indexOf(chain, layer)), "name", base));
        }
        String tmp = temporaryName(chain);
        Map<String, Object> add = new LinkedHashMap<>();
        add.put("node", formatNodeName(0));
        add.put("name", tmp);
        add.put("persistent", false);
        add.put("disabled", true); // an enabled bitmap cannot be exported read-only
        if (plan.granularity() > 0) {
            add.put("granularity", plan.granularity());
        }
        qmp.execute("block-dirty-bitmap-add", add);
        qmp.execute("block-dirty-bitmap-merge", Map.of("node", formatNodeName(0), "target", tmp, "bitmaps", sources));
        return tmp;
    }

    /** The top node as a read-only NBD export on the directory's Unix socket, with the merged bitmap if any. */
    private static void exportOverNbd(QmpClient qmp, ExportDirectory dir, Optional<String> bitmap) {
        qmp.execute("nbd-server-start", Map.of("addr", Map.of("type", "unix", "data",
                Map.of("path", dir.socket().toString()))));
        Map<String, Object> export = new LinkedHashMap<>();
        export.put("type", "nbd");
        export.put("id", "coldcopy");
        export.put("node-name", formatNodeName(0));
        export.put("name", EXPORT_NAME);
        export.put("writable", false);
        bitmap.ifPresent(b -> export.put("bitmaps", List.of(b)));
        qmp.execute("block-export-add", export);
    }

    /** The one-line failure of a start (the daemon already gone): a VM holding the image says so. */
    private static RuntimeException startFailed(Exception e, ExportDirectory dir) {
        String log = dir.logText();
        dir.delete();
        if (e instanceof QemuException && !(e instanceof VmRunningException) && QemuTools.isLockError(log)) {
            return new VmRunningException(lockMessage(log));
        }
        if (e instanceof RuntimeException re) {
            return re;
        }
        if (e instanceof java.nio.channels.ClosedByInterruptException) {
            Thread.currentThread().interrupt();
            return new QemuException(PROGRAM + " start was interrupted", e);
        }
        return new QemuException(PROGRAM + " could not be started: " + e, e);
    }

    private QmpClient awaitMonitor(Process process, ExportDirectory dir) throws IOException {
        long deadline = System.nanoTime() + tools.timeout().toNanos();
        while (true) {
            if (!process.isAlive()) {
                String log = dir.logText();
                if (QemuTools.isLockError(log)) {
                    throw new VmRunningException(lockMessage(log));
                }
                throw new QemuException(PROGRAM + " exited with status " + process.exitValue() + ": "
                        + (log.isEmpty() ? "no message" : log));
            }
            if (Files.exists(dir.qmpSocket())) {
                try {
                    return QmpClient.connect(dir.qmpSocket(), tools.timeout(), PROGRAM + " pid " + process.pid());
                } catch (java.net.SocketException e) {
                    // the socket file exists before it listens; try again
                }
            }
            if (System.nanoTime() > deadline) {
                throw new QemuTimeoutException(PROGRAM + " did not open its QMP socket within "
                        + tools.timeout().toMillis() + " ms: " + dir.logText());
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new QemuException(PROGRAM + " start was interrupted");
            }
        }
    }

    private void stop(Process process, QmpClient qmp) {
        boolean interrupted = Thread.interrupted(); // cleanup runs to the end even on an interrupted thread
        try {
            if (process.isAlive()) {
                try {
                    qmp.execute("quit", null);
                } catch (QemuException e) {
                    LOG.debug("quit: {}", e.getMessage());
                }
            }
            qmp.close();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroy();
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(5, TimeUnit.SECONDS);
                }
            }
        } catch (InterruptedException e) {
            interrupted = true;
            process.destroyForcibly();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static String lockMessage(String log) {
        int at = log.indexOf("Failed to get");
        return at >= 0 ? log.substring(at) : log;
    }

    /** A name for the merged bitmap that no bitmap of the top image already has. */
    private static String temporaryName(BackingChain chain) {
        String name = BACKUP_BITMAP;
        for (int n = 1; chain.top().hasBitmap(name); n++) {
            name = BACKUP_BITMAP + "-" + n;
        }
        return name;
    }

    private static int indexOf(BackingChain chain, ImageLayer layer) {
        for (int i = 0; i < chain.depth(); i++) {
            if (chain.layers().get(i).path().equals(layer.path())) {
                return i;
            }
        }
        throw new IllegalArgumentException("layer " + layer.path() + " of the plan is not in the chain");
    }

    static String fileNodeName(int i) {
        return "file" + i;
    }

    static String formatNodeName(int i) {
        return "fmt" + i;
    }

    private static String fileNode(ImageLayer layer, int i) throws JsonProcessingException {
        Map<String, Object> node = new LinkedHashMap<>();
        node.put("driver", "file");
        node.put("node-name", fileNodeName(i));
        node.put("filename", layer.path().toString());
        node.put("read-only", true);
        node.put("auto-read-only", true);
        return JSON.writeValueAsString(node);
    }

    /** JSON syntax, so that {@code "backing": null} can end the chain and no path needs comma-escaping. */
    private static String formatNode(BackingChain chain, int i) throws JsonProcessingException {
        ImageLayer layer = chain.layers().get(i);
        Map<String, Object> node = new LinkedHashMap<>();
        node.put("driver", layer.format());
        node.put("node-name", formatNodeName(i));
        node.put("file", fileNodeName(i));
        node.put("read-only", true);
        if (!ImageLayer.RAW.equals(layer.format())) {
            node.put("backing", i + 1 < chain.depth() ? formatNodeName(i + 1) : null);
        }
        return JSON.writeValueAsString(node);
    }
}
