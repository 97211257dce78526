package dev.coldcopy.event;

import dev.coldcopy.domain.DomainDefinition;
import java.util.List;
import java.util.Optional;

/**
 * A validated "VM stopped" event.
 *
 * @param id         identity of the event: the one the sender gave (so the same event delivered twice
 *                   is backed up once), else a fresh one
 * @param vm         the VM (libvirt domain) name
 * @param disks      the disks to back up, in the order given: the event's own list, else the domain's
 *                   backed-up disks
 * @param checkpoint a bitmap to back up from instead of coldcopy's latest checkpoint (e.g. a libvirt one)
 * @param domain     the domain definition when the event carried its XML: every disk with why it is
 *                   skipped, the host files, the XML to record
 */
public record BackupEvent(String id, String vm, List<DiskSpec> disks, Optional<String> checkpoint,
                          Optional<DomainDefinition> domain) {
    public BackupEvent {
        disks = List.copyOf(disks);
    }

    /** An event that names its disks and carries no domain (the command line, one disk's job). */
    public BackupEvent(String id, String vm, List<DiskSpec> disks, Optional<String> checkpoint) {
        this(id, vm, disks, checkpoint, Optional.empty());
    }
}
