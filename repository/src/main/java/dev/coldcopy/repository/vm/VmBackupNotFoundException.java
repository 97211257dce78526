package dev.coldcopy.repository.vm;

import dev.coldcopy.repository.RepositoryException;

/** There is no VM backup record under the key asked for. */
public class VmBackupNotFoundException extends RepositoryException {
    private static final long serialVersionUID = 1L;
    private final String key;

    public VmBackupNotFoundException(String key, String message) {
        super(message);
        this.key = key;
    }

    /** the record's key ({@code vms/VM/ID}) */
    public String key() {
        return key;
    }
}
