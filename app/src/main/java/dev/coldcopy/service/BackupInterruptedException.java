package dev.coldcopy.service;

/** coldcopy is stopping (Ctrl-C, SIGTERM): the backup was rolled back and is not retried. */
public final class BackupInterruptedException extends RuntimeException {

    public BackupInterruptedException(String message) {
        super(message);
    }
}
