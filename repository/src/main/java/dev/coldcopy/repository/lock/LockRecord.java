package dev.coldcopy.repository.lock;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * What a lock object says (plain JSON, so an operator can read it): who holds it, since when, and when
 * its holder last proved it is alive. It holds no secret and nothing about the data.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public final class LockRecord {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** {@code shared} (a backup), {@code exclusive} (a prune) or {@code lease} (one disk's backup, across nodes) */
    public String mode;
    /** what the holder does, e.g. "backup web/vda" or "prune" */
    public String purpose;
    public String host;
    public long pid;
    /** the holder process's start time, so a reused pid is not mistaken for the holder */
    public String processStarted;
    public String created;
    public String refreshed;

    public boolean exclusive() {
        return LockMode.EXCLUSIVE.label().equals(mode);
    }

    public byte[] toJson() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write a lock record", e);
        }
    }

    /** @return empty when the bytes are not a lock record (a torn or foreign object: treated as stale) */
    public static Optional<LockRecord> parse(byte[] json) {
        try {
            LockRecord r = JSON.readValue(json, LockRecord.class);
            if (r.mode == null || r.refreshed == null) {
                return Optional.empty();
            }
            Instant.parse(r.refreshed);
            return Optional.of(r);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * A lock is stale when its holder has not refreshed it for {@code staleAfter}, or when the holder ran
     * on this host and that process is gone (then nobody needs to wait for the time-out).
     */
    public boolean isStale(Instant now, Duration staleAfter, String thisHost) {
        if (Instant.parse(refreshed).plus(staleAfter).isBefore(now)) {
            return true;
        }
        return thisHost.equals(host) && !ProcessIdentity.isAlive(pid, processStarted);
    }

    public String describe() {
        String kind = LockMode.LEASE.label().equals(mode) ? "lease" : mode + " lock";
        return kind + " of " + purpose + " by pid " + pid + " on " + host + " since " + created;
    }
}
