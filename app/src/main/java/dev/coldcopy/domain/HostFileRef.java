package dev.coldcopy.domain;

import java.nio.file.Path;
import java.util.List;

/**
 * A host file a domain needs to start, outside its disks.
 *
 * @param role one of {@link #ROLES}
 * @param path absolute and normalised
 */
public record HostFileRef(String role, Path path) {
    /** The UEFI variable store: written by the guest, so it is VM state like a disk. */
    public static final String NVRAM = "nvram";
    /** Direct kernel boot: the kernel, initial ramdisk and device tree the domain boots from. */
    public static final String KERNEL = "kernel";
    public static final String INITRD = "initrd";
    public static final String DTB = "dtb";
    public static final List<String> ROLES = List.of(NVRAM, KERNEL, INITRD, DTB);
}
