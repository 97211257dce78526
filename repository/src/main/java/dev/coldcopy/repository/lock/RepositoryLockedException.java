package dev.coldcopy.repository.lock;

import dev.coldcopy.repository.RepositoryException;

/** The repository is locked by another process (a prune, or backups while a prune waits), or our lock was lost. */
public class RepositoryLockedException extends RepositoryException {
    private static final long serialVersionUID = 1L;

    public RepositoryLockedException(String message) {
        super(message);
    }
}
