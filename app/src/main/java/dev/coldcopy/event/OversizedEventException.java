package dev.coldcopy.event;

/** An event larger than {@code coldcopy.events.max-bytes}: refused before it is read into memory. */
public class OversizedEventException extends BadEventException {
    private static final long serialVersionUID = 1L;

    public OversizedEventException(String reason) {
        super(reason);
    }
}
