package dev.coldcopy.service;

import java.time.Duration;
import java.util.Optional;

/**
 * What one disk backup came to: the JSON result the service emits and the line {@code coldcopy backup}
 * prints.
 */
public record BackupResult(
        String eventId,
        String vm,
        String disk,
        String outcome,
        String snapshot,
        String kind,
        String reason,
        long bytesRead,
        long bytesStored,
        long durationMs,
        String checkpoint) {

    public static BackupResult success(DiskJob job, String snapshot, String kind, String reason,
            long bytesRead, long bytesStored, Duration duration, Optional<String> checkpoint) {
        return new BackupResult(job.event().id(), job.event().vm(), job.disk().target(), "ok", snapshot, kind,
                reason, bytesRead, bytesStored, duration.toMillis(), checkpoint.orElse(null));
    }

    public static BackupResult failure(DiskJob job, String reason) {
        return new BackupResult(job.event().id(), job.event().vm(), job.disk().target(), "failed", null, null,
                reason, 0, 0, 0, null);
    }

    /** {@code VM/TARGET SNAPSHOT-ID full|incremental|delta REASON}, as scripts read it. */
    public String line() {
        if (!"ok".equals(outcome)) {
            return vm + "/" + disk + " - failed " + reason;
        }
        String why = reason.startsWith(kind + ": ") ? reason.substring(kind.length() + 2) : reason;
        return vm + "/" + disk + " " + snapshot + " " + kind + " " + why;
    }
}
