package dev.coldcopy.domain;

import java.nio.file.Path;

/**
 * One {@code <devices><disk>} of a domain, as coldcopy classified it.
 *
 * @param target     the guest's name for it ({@code <target dev>}), checked like an event's target
 * @param device     {@code disk}, {@code cdrom}, {@code floppy} or {@code lun} (libvirt's default: disk)
 * @param type       {@code file}, {@code block}, {@code network}, ... (libvirt's default: file)
 * @param format     the driver type ({@code qcow2}, {@code raw}, ...); {@code raw} when a local disk names
 *                   none, as libvirt assumes; null for a non-local disk that names none
 * @param source     the file, device or directory it reads; for a backed-up disk an absolute, normalised
 *                   path; null for network and volume disks and a disk without a source
 * @param backedUp   whether coldcopy backs it up
 * @param skipReason why not, for a skipped disk (null for a backed-up one)
 */
public record DomainDisk(String target, String device, String type, String format, Path source, boolean backedUp,
                         String skipReason) {

    /** "vda" for a backed-up disk, "hdc cdrom" for a skipped one: how a reason lists it. */
    public String describe() {
        return backedUp ? target : target + " " + skipReason;
    }
}
