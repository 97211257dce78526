package dev.coldcopy.nbd.protocol;

import java.io.IOException;

/** Base of every NBD failure; messages are one line. */
public class NbdException extends IOException {
    private static final long serialVersionUID = 1L;

    public NbdException(String message) {
        super(message);
    }

    public NbdException(String message, Throwable cause) {
        super(message, cause);
    }
}
