package dev.coldcopy.qemu;

import dev.coldcopy.checkpoint.CheckpointPlan;

/**
 * Starts a read-only NBD export of a disk over a Unix socket in a private directory. For an incremental or
 * delta plan the export carries one dirty bitmap: the plan's checkpoint, merged over every layer that holds
 * it; for a full plan it carries none. Two ways: {@link StorageDaemonExport} (default, writes nothing) and
 * {@link QemuNbdOverlayExport} (for hosts without qemu-storage-daemon).
 */
public interface ExportServer {

    /** The NBD export name every coldcopy export uses. */
    String EXPORT_NAME = "disk";

    /**
     * @return a started export; closing it stops the server and removes everything it left
     * @throws VmRunningException the image is held open for writing by another process
     * @throws QemuException      the server did not start (qemu's message included); nothing is left behind
     */
    RunningExport start(BackingChain chain, CheckpointPlan plan);

    /** "qemu-storage-daemon" or "qemu-nbd" (configuration value {@code coldcopy.export.server}). */
    static ExportServer named(String name, QemuTools tools, java.nio.file.Path exportsDir) {
        return switch (name) {
            case "qemu-storage-daemon", "storage-daemon", "qsd" -> new StorageDaemonExport(tools, exportsDir);
            case "qemu-nbd", "nbd", "overlay" -> new QemuNbdOverlayExport(tools, exportsDir);
            default -> throw new IllegalArgumentException("unknown export server '" + name
                    + "': use qemu-storage-daemon or qemu-nbd");
        };
    }
}
