package dev.coldcopy.service;

import dev.coldcopy.event.BackupEvent;
import dev.coldcopy.event.DiskSpec;

/** One disk of one event: the unit the backup route works on (and retries). */
public record DiskJob(BackupEvent event, DiskSpec disk) {
    public String label() {
        return event.vm() + "/" + disk.target();
    }
}
