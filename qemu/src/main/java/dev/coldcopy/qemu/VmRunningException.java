package dev.coldcopy.qemu;

/**
 * The image is held open for writing by another process (a running VM, or a qemu-io/qemu-nbd standing in
 * for one): qemu refused to take its lock. coldcopy never reads a live image (no {@code -U}/force-share).
 */
public class VmRunningException extends QemuException {

    public VmRunningException(String qemuMessage) {
        super("VM is running: " + qemuMessage);
    }
}
