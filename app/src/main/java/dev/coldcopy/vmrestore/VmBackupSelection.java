package dev.coldcopy.vmrestore;

import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.SnapshotKind;
import dev.coldcopy.repository.vm.VmDisk;
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
        if (which != null && which.isBlank()) {
            throw new IllegalArgumentException("--snapshot is empty: give latest, a VM backup id or a time");
        }
        which = which == null ? LATEST : which.strip();
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
        Instant until = LATEST.equals(which) ? Instant.MAX : time(which);
        List<VmBackup> candidates = all.stream().filter(b -> !b.created().isAfter(until)).sorted(byTime.reversed()).toList();
        if (candidates.isEmpty()) {
            throw new IllegalArgumentException("no VM backup of " + vm + " taken at or before " + until + " (the oldest is "
                    + all.stream().min(byTime).orElseThrow().created() + ")");
        }
        // a VM backup taken from a foreign checkpoint holds deltas, which restore only onto their bases: a side
        // branch, as for a single disk, so "latest" and a time mean the newest that restores on its own
        for (VmBackup candidate : candidates) {
            if (!hasDelta(repository, candidate)) {
                return candidate;
            }
        }
        throw new IllegalArgumentException("every VM backup of " + vm + " up to " + (LATEST.equals(which) ? "now" : until)
                + " holds a delta snapshot (taken from a foreign checkpoint): restore its disks one by one with --disk and --onto");
    }

    private static boolean hasDelta(Repository repository, VmBackup backup) throws IOException {
        for (VmDisk disk : backup.disks()) {
            if (VmDisk.BACKED_UP.equals(disk.outcome()) && repository.load(disk.snapshot()).kind() == SnapshotKind.DELTA) {
                return true;
            }
        }
        return false;
    }

    /**
     * The end of the moment the text names, at its own precision: {@code 14:30:17Z} is the whole of that second
     * (a time copied from {@code snapshots --vms}, which shows seconds, finds the backup it shows), {@code 14:30}
     * the whole minute, a date the whole day.
     */
    static Instant time(String text) {
        try {
            return endOf(Instant.parse(text), text.replaceFirst("(Z|[+-]\\d\\d:\\d\\d)$", ""));
        } catch (DateTimeParseException e) {
            // a local form, read as UTC
        }
        try {
            return endOf(LocalDateTime.parse(text).toInstant(ZoneOffset.UTC), text);
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

    /** {@code local} is the date-time part as written: HH:mm, HH:mm:ss or with a fraction (then exact). */
    private static Instant endOf(Instant start, String local) {
        if (local.contains(".")) {
            return start;
        }
        int colons = local.length() - local.replace(":", "").length();
        return colons >= 2 ? start.plusSeconds(1).minusNanos(1) : start.plusSeconds(60).minusNanos(1);
    }
}
