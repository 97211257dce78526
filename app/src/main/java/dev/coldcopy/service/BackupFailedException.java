package dev.coldcopy.service;

/** One or more disks of an event could not be backed up, after retries; the message names each. */
public class BackupFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BackupFailedException(String message) {
        super(message);
    }

    public BackupFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
