package dev.coldcopy.qemu;

/** A qemu program did not finish within its timeout; it has been killed. */
public class QemuTimeoutException extends QemuException {

    public QemuTimeoutException(String message) {
        super(message);
    }
}
