package dev.coldcopy.nbd.protocol;

/** The server broke the protocol (bad magic, unknown cookie, reply past the request, ...). */
public class NbdProtocolException extends NbdException {
    private static final long serialVersionUID = 1L;

    public NbdProtocolException(String message) {
        super(message);
    }

    public NbdProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
