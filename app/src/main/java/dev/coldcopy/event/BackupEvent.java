package dev.coldcopy.event;

import java.util.List;
import java.util.Optional;

/**
 * A validated "VM stopped" event.
 *
 * @param id         identity of the event: the one the sender gave (so the same event delivered twice
 *                   is backed up once), else a fresh one
 * @param vm         the VM (libvirt domain) name
 * @param disks      the disks to back up, in the order given
 * @param checkpoint a bitmap to back up from instead of coldcopy's latest checkpoint (e.g. a libvirt one)
 */
public record BackupEvent(String id, String vm, List<DiskSpec> disks, Optional<String> checkpoint) {
    public BackupEvent {
        disks = List.copyOf(disks);
    }
}
