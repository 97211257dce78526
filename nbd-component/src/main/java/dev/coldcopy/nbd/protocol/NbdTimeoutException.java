package dev.coldcopy.nbd.protocol;

/** Connecting or waiting for a reply took longer than the configured timeout. */
public class NbdTimeoutException extends NbdException {
    private static final long serialVersionUID = 1L;

    public NbdTimeoutException(String message) {
        super(message);
    }

    public NbdTimeoutException(String message, Throwable cause) {
        super(message, cause);
    }
}
