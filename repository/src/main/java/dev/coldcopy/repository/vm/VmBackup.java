package dev.coldcopy.repository.vm;

import dev.coldcopy.repository.SnapshotId;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One backup of a whole VM: the disk snapshots of one stop event and the files around them.
 *
 * @param id      its id (creation time and random digits, like a snapshot's)
 * @param vm      the VM's name
 * @param eventId the stop event it answers, null if it had none
 * @param created when it began
 * @param disks   every disk of the VM, backed up or skipped
 * @param files   the domain XML and the host files the VM needs, at most one per role
 * @param notes   remarks for a person (what was left out and why)
 */
public record VmBackup(SnapshotId id, String vm, String eventId, Instant created, List<VmDisk> disks,
                       List<HostFile> files, List<String> notes) {
    /** a real VM has a few dozen disks at most; far more means the caller read something else */
    public static final int MAX_DISKS = 256;
    public static final int MAX_NOTES = 100;
    public static final int MAX_NOTE_LENGTH = 2000;
    static final int MAX_NAME = 255;

    public VmBackup {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(created, "created");
        if (vm == null || vm.isBlank() || vm.length() > MAX_NAME) {
            throw new IllegalArgumentException("a VM backup needs the VM's name (1 to " + MAX_NAME + " characters)");
        }
        if (eventId != null && eventId.length() > MAX_NAME) {
            throw new IllegalArgumentException("VM " + vm + ": event id longer than " + MAX_NAME + " characters");
        }
        disks = copy(disks, "disks", vm);
        files = copy(files, "files", vm);
        notes = copy(notes, "notes", vm);
        if (disks.size() > MAX_DISKS) {
            throw new IllegalArgumentException("VM " + vm + ": " + disks.size() + " disks is more than a VM can have (" + MAX_DISKS + ")");
        }
        Set<String> targets = new HashSet<>();
        for (VmDisk d : disks) {
            if (!targets.add(d.target())) {
                throw new IllegalArgumentException("VM " + vm + ": disk target " + d.target() + " is listed twice");
            }
        }
        Set<String> roles = new HashSet<>();
        for (HostFile f : files) {
            if (!roles.add(f.role())) {
                throw new IllegalArgumentException("VM " + vm + ": two files have the role " + f.role());
            }
        }
        if (notes.size() > MAX_NOTES) {
            throw new IllegalArgumentException("VM " + vm + ": " + notes.size() + " notes, at most " + MAX_NOTES);
        }
        for (String n : notes) {
            if (n.length() > MAX_NOTE_LENGTH) {
                throw new IllegalArgumentException("VM " + vm + ": a note is longer than " + MAX_NOTE_LENGTH + " characters");
            }
        }
    }

    private static <T> List<T> copy(List<T> list, String what, String vm) {
        // not contains(null): immutable lists throw on it
        if (list == null || list.stream().anyMatch(Objects::isNull)) {
            throw new IllegalArgumentException("VM " + vm + ": the " + what + " must be a list without empty entries");
        }
        return List.copyOf(list);
    }

    /** the file of that role, if this backup saved one */
    public Optional<HostFile> file(String role) {
        HostFile.checkRole(role);
        return files.stream().filter(f -> f.role().equals(role)).findFirst();
    }

    /** the VM's definition as libvirt gave it */
    public Optional<HostFile> domainXml() {
        return file(HostFile.DOMAIN_XML);
    }

    /** the disk of that target, if the VM had one */
    public Optional<VmDisk> disk(String target) {
        return disks.stream().filter(d -> d.target().equals(target)).findFirst();
    }

    /** the snapshots this backup took, in disk order */
    public List<SnapshotId> snapshots() {
        return disks.stream().filter(VmDisk::hasSnapshot).map(VmDisk::snapshot).toList();
    }

    @Override
    public String toString() {
        return "VM backup " + id + " of " + vm;
    }
}
