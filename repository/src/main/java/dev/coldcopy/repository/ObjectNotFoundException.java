package dev.coldcopy.repository;

/** A repository object (chunk, manifest, config) does not exist in the backend. */
public class ObjectNotFoundException extends RepositoryException {
    private static final long serialVersionUID = 1L;
    private final String key;

    public ObjectNotFoundException(String key, String where) {
        super("object " + key + " not found in " + where);
        this.key = key;
    }

    public String key() {
        return key;
    }
}
