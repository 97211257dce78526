package dev.coldcopy.vmrestore;

import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.vm.VmBackup;
import dev.coldcopy.repository.vm.VmBackups;
import java.io.IOException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Which backup of a VM: {@code latest}, a VM backup id (from {@code coldcopy snapshots --vms}), or a time (the
 * newest backup taken at or before it: {@code 2026-12-02T14:30:00Z}, {@code 2026-12-02T14:30} (UTC) or
 * {@code 2026-12-02}, meaning the end of that day, UTC).
 */
public record VmBackupSelection(String vm, String which) {
    public static final String LATEST = "latest";

    public VmBackupSelection {
        which = which == null || which.isBlank() ? LATEST : which.strip();
    }

    public VmBackup find(Repository repository) throws IOException {
        VmBackups backups = new VmBackups(repository);
        if (SnapshotId.isValid(which)) {
            VmBackup backup = backups.find(SnapshotId.parse(which)).orElseThrow(() ->
                    new IllegalArgumentException("no VM backup " + which + " in " + repository.uri()
                            + " (a disk snapshot's id restores with --disk and --output)"));
            if (!backup.vm().equals(vm)) {
                throw new IllegalArgumentException("VM backup " + which + " is of " + backup.vm() + ", not " + vm);
            }
            return backup;
        }
        List<VmBackup> all = backups.list(Optional.of(vm));
        if (all.isEmpty()) {
            throw new IllegalArgumentException("no VM backup of " + vm + " in " + repository.uri());
        }
        Comparator<VmBackup> byTime = Comparator.comparing(VmBackup::created).thenComparing(VmBackup::id);
        if (LATEST.equals(which)) {
            return all.stream().max(byTime).orElseThrow();
        }
        Instant until = time(which);
        return all.stream().filter(b -> !b.created().isAfter(until)).max(byTime).orElseThrow(() ->
                new IllegalArgumentException("no VM backup of " + vm + " taken at or before " + until + " (the oldest is "
                        + all.stream().min(byTime).orElseThrow().created() + ")"));
    }

    static Instant time(String text) {
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            // a local form, read as UTC
        }
        try {
            return LocalDateTime.parse(text).toInstant(ZoneOffset.UTC);
        } catch (DateTimeParseException e) {
            // a date alone
        }
        try {
            return LocalDate.parse(text).plusDays(1).atStartOfDay().toInstant(ZoneOffset.UTC).minusNanos(1);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("--snapshot '" + text + "' is not latest, a VM backup id or a time"
                    + " (2026-12-02T14:30:00Z, 2026-12-02T14:30 or 2026-12-02, UTC)");
        }
    }
}
