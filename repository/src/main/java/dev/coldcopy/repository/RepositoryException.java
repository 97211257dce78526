package dev.coldcopy.repository;

import java.io.IOException;

/** A repository operation failed; the message is one line, names the object concerned and never holds a secret. */
public class RepositoryException extends IOException {
    private static final long serialVersionUID = 1L;

    public RepositoryException(String message) {
        super(message);
    }

    public RepositoryException(String message, Throwable cause) {
        super(message, cause);
    }
}
