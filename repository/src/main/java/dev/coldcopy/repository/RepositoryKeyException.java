package dev.coldcopy.repository;

/** The key given does not fit the repository (wrong key, missing key, malformed key file). */
public class RepositoryKeyException extends RepositoryException {
    private static final long serialVersionUID = 1L;

    public RepositoryKeyException(String message) {
        super(message);
    }
}
