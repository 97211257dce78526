package dev.coldcopy.repository;

/**
 * The store refused our credentials or permissions (S3 403: a wrong key or secret, a signature that does
 * not match, a policy that denies): trying again cannot help, so it is a permanent failure.
 */
public class RepositoryAccessDeniedException extends RepositoryException {
    private static final long serialVersionUID = 1L;

    public RepositoryAccessDeniedException(String message, Throwable cause) {
        super(message, cause);
    }
}
