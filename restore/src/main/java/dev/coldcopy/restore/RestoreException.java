package dev.coldcopy.restore;

import dev.coldcopy.repository.RepositoryException;

/** A restore failed; the output file has been removed. */
public class RestoreException extends RepositoryException {
    private static final long serialVersionUID = 1L;

    public RestoreException(String message) {
        super(message);
    }

    public RestoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
