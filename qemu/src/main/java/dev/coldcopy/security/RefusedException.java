package dev.coldcopy.security;

/** Input refused before any program ran; the message is the one-line reason. */
public class RefusedException extends RuntimeException {

    public RefusedException(String message) {
        super(message);
    }
}
