package dev.coldcopy.repository.lock;

/**
 * A backup takes a SHARED lock (any number may run at once); a prune takes an EXCLUSIVE one (nothing
 * else runs while it forgets snapshots and collects chunks).
 */
public enum LockMode {
    SHARED, EXCLUSIVE;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
