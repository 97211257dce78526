package dev.coldcopy.qemu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

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
 * <p>qemu-nbd runs read-only (started by {@link QemuNbdProcess}). Once it serves, the overlay is unlinked
 * (qemu-nbd keeps it open), so even a crash leaves no overlay behind.
 */
public final class QemuNbdOverlayExport implements ExportServer {

    private static final Logger LOG = LoggerFactory.getLogger(QemuNbdOverlayExport.class);
    private static final String PROGRAM = QemuNbdProcess.PROGRAM;
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
        QemuNbdProcess server = null;
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
            List<String> options = new ArrayList<>(List.of("--read-only", "--persistent", "--shared=" + SHARED,
                    "--export-name=" + EXPORT_NAME, "--format=" + format));
            bitmap.ifPresent(b -> options.add("--bitmap=" + b));
            server = QemuNbdProcess.start(tools, dir, options, target);
            Files.deleteIfExists(dir.overlay());
            LOG.info("exporting {} ({}) via qemu-nbd pid {} on {}", top.path(), plan.describe(), server.pid(), dir.socket());
            return new RunningExport(dir, EXPORT_NAME, bitmap, server.pid(), PROGRAM, server::close);
        } catch (IOException | RuntimeException e) {
            if (server != null) {
                server.close();
            }
            dir.delete();
            if (e instanceof RuntimeException re) {
                throw re;
            }
            throw new QemuException(PROGRAM + " could not be started: " + e.getMessage(), e);
        }
    }
}
