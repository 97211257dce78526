package dev.coldcopy.repository.lock;

/**
 * A backup takes a SHARED lock (any number may run at once); a prune takes an EXCLUSIVE one (nothing
 * else runs while it forgets snapshots and collects chunks). A LEASE is of another kind: it keeps one disk
 * (or one VM's backup record) to one holder across nodes, and conflicts only with leases on the same thing;
 * prune neither waits for leases nor is waited for by them.
 */
public enum LockMode {
    SHARED, EXCLUSIVE, LEASE;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
