package dev.coldcopy.backup;

/** Another backup of the same disk is running; this one waited as long as it was allowed to. */
public class DiskBusyException extends RuntimeException {

    public DiskBusyException(String message) {
        super(message);
    }
}
