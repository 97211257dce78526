package dev.coldcopy.repository;

/** There is no repository at the URI yet (its config object is missing): it must be initialised first. */
public class RepositoryNotFoundException extends RepositoryException {
    private static final long serialVersionUID = 1L;

    public RepositoryNotFoundException(String message) {
        super(message);
    }
}
