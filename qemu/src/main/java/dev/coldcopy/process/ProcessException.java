package dev.coldcopy.process;

/** An external program could not be run to a good end; the message names it and carries its stderr. */
public class ProcessException extends RuntimeException {
    public ProcessException(String message) {
        super(message);
    }

    public ProcessException(String message, Throwable cause) {
        super(message, cause);
    }
}
