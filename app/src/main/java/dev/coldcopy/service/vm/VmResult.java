package dev.coldcopy.service.vm;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.coldcopy.service.BackupResult;
import java.util.ArrayList;
import java.util.List;

/**
 * What one event came to for the VM as a whole: every disk (backed up, failed or skipped, and why), the host
 * files recorded, and the VM backup that ties them together. Published next to the per-disk results.
 *
 * @param vmBackup the id of the VM backup record; null when the event failed (no record is written then)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record VmResult(String type, String eventId, String vm, String outcome, String vmBackup, List<Disk> disks,
                       List<String> files, List<String> notes, String reason) {
    public static final String TYPE = "vm";

    /** One disk: outcome ok, failed or skipped. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Disk(String disk, String outcome, String snapshot, String kind, String reason) {
        static Disk of(BackupResult r) {
            return new Disk(r.disk(), r.outcome(), r.snapshot(), r.kind(), "ok".equals(r.outcome()) ? null : r.reason());
        }
    }

    /** {@code VM VM-BACKUP-ID vm DISK... [skipped DISK (REASON)...] [files ROLE...]}, as {@code coldcopy backup} prints it. */
    public String line() {
        if (!"ok".equals(outcome)) {
            return vm + " - vm failed " + reason;
        }
        List<String> parts = new ArrayList<>();
        parts.add(vm + " " + vmBackup + " vm " + String.join(" ", disks.stream().filter(d -> "ok".equals(d.outcome()))
                .map(Disk::disk).toList()));
        disks.stream().filter(d -> "skipped".equals(d.outcome()))
                .forEach(d -> parts.add("skipped " + d.disk() + " (" + d.reason() + ")"));
        if (!files.isEmpty()) {
            parts.add("files " + String.join(" ", files));
        }
        return String.join("; ", parts);
    }
}
