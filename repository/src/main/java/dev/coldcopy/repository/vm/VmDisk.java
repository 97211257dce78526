package dev.coldcopy.repository.vm;

import dev.coldcopy.repository.SnapshotId;

/**
 * One disk of the VM as that backup saw it.
 *
 * @param target   the disk's target name (vda, sdb, ...): the DISK of its snapshots' keys
 * @param device   libvirt's device kind (disk, cdrom, lun, floppy), null if unknown
 * @param source   the image or device on the host; null for a disk without one (a network disk, an empty drive)
 * @param format   the image format (qcow2, raw, ...), null if unknown
 * @param outcome  {@value #BACKED_UP} (snapshot set) or {@value #SKIPPED} (reason set)
 * @param snapshot the disk's snapshot taken for this stop event; null when skipped
 * @param reason   why it was skipped (e.g. "network disk"); null when backed up
 */
public record VmDisk(String target, String device, String source, String format, String outcome, SnapshotId snapshot, String reason) {
    public static final String BACKED_UP = "backed-up";
    public static final String SKIPPED = "skipped";
    /** a target, device or format name is short; this only stops garbage */
    static final int MAX_NAME = 255;

    public VmDisk {
        if (target == null || target.isBlank() || target.length() > MAX_NAME) {
            throw new IllegalArgumentException("a disk needs its target name (1 to " + MAX_NAME + " characters), not " + quoted(target));
        }
        if (device != null && device.length() > MAX_NAME || format != null && format.length() > MAX_NAME) {
            throw new IllegalArgumentException("disk " + target + ": device or format name longer than " + MAX_NAME + " characters");
        }
        if (source != null && source.length() > HostFile.MAX_PATH) {
            throw new IllegalArgumentException("disk " + target + ": source longer than " + HostFile.MAX_PATH + " characters");
        }
        if (BACKED_UP.equals(outcome)) {
            if (snapshot == null) {
                throw new IllegalArgumentException("disk " + target + " is " + BACKED_UP + " but names no snapshot");
            }
            if (reason != null) {
                throw new IllegalArgumentException("disk " + target + " is " + BACKED_UP + " but gives a reason for a skip: " + reason);
            }
        } else if (SKIPPED.equals(outcome)) {
            if (reason == null || reason.isBlank()) {
                throw new IllegalArgumentException("disk " + target + " is " + SKIPPED + " but gives no reason");
            }
            if (snapshot != null) {
                throw new IllegalArgumentException("disk " + target + " is " + SKIPPED + " but names snapshot " + snapshot);
            }
        } else {
            throw new IllegalArgumentException("disk " + target + ": outcome must be " + BACKED_UP + " or " + SKIPPED + ", not " + quoted(outcome));
        }
    }

    /** a backed-up disk */
    public static VmDisk backedUp(String target, String device, String source, String format, SnapshotId snapshot) {
        return new VmDisk(target, device, source, format, BACKED_UP, snapshot, null);
    }

    /** a disk this backup did not take */
    public static VmDisk skipped(String target, String device, String source, String format, String reason) {
        return new VmDisk(target, device, source, format, SKIPPED, null, reason);
    }

    public boolean hasSnapshot() {
        return snapshot != null;
    }

    private static String quoted(String s) {
        return s == null ? "nothing" : "'" + s + "'";
    }
}
