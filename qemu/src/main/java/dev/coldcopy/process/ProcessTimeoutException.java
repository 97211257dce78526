package dev.coldcopy.process;

/** An external program did not finish within its timeout; it has been killed. */
public class ProcessTimeoutException extends ProcessException {
    public ProcessTimeoutException(String message) {
        super(message);
    }
}
