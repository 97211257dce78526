package dev.coldcopy.nbd.protocol;

/** The connection to the server was closed or reset; every pending request fails with it. */
public class NbdConnectionLostException extends NbdException {
    private static final long serialVersionUID = 1L;

    public NbdConnectionLostException(String message) {
        super(message);
    }

    public NbdConnectionLostException(String message, Throwable cause) {
        super(message, cause);
    }
}
