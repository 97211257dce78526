package dev.coldcopy.qemu;

import dev.coldcopy.process.ProcessException;

/**
 * A qemu program failed. The message names the program and carries qemu's own words (its stderr),
 * so the one-line reason a user sees is the one qemu gave.
 */
public class QemuException extends ProcessException {

    public QemuException(String message) {
        super(message);
    }

    public QemuException(String message, Throwable cause) {
        super(message, cause);
    }
}
