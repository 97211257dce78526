package dev.coldcopy.event;

import java.util.List;
import java.util.Optional;

/**
 * A validated "VM stopped" event.
 *
 * @param id         stable identity of the event: the one it carried, or a digest of its content, so the
 *                   same event delivered twice is recognised
 * @param vm         the VM (libvirt domain) name
 * @param disks      the disks to back up, in the order given
 * @param checkpoint a bitmap to back up from instead of coldcopy's latest checkpoint (e.g. a libvirt one)
 */
public record BackupEvent(String id, String vm, List<DiskSpec> disks, Optional<String> checkpoint) {
    public BackupEvent {
        disks = List.copyOf(disks);
    }
}
