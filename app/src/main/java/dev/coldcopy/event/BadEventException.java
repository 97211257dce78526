package dev.coldcopy.event;

/**
 * An event that can never succeed however often it is retried: malformed, incomplete, naming something
 * that is not allowed. Routes dead-letter it with {@link #getMessage()} as the one-line reason.
 */
public class BadEventException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BadEventException(String reason) {
        super(reason);
    }

    public BadEventException(String reason, Throwable cause) {
        super(reason, cause);
    }
}
