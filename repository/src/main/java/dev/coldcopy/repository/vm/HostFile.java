package dev.coldcopy.repository.vm;

import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * One host file of a VM, stored as content-addressed chunks like disk data (compressed; encrypted when
 * the repository is).
 *
 * @param role   what the file is to the VM: one of {@link #ROLES}
 * @param path   where it was on the host ({@value #DOMAIN_XML_PATH} for the domain XML, which has no file)
 * @param size   its length in bytes
 * @param sha256 SHA-256 of its content (64 hex digits, plain even in an encrypted repository: it lives
 *               only inside the encrypted record), checked after every read
 * @param chunks its content in order
 */
public record HostFile(String role, String path, long size, String sha256, List<FileChunk> chunks) {
    public static final String DOMAIN_XML = "domain-xml";
    public static final String NVRAM = "nvram";
    public static final String KERNEL = "kernel";
    public static final String INITRD = "initrd";
    public static final String DTB = "dtb";
    /** every role a host file may have; a record naming another one is refused */
    public static final List<String> ROLES = List.of(DOMAIN_XML, NVRAM, KERNEL, INITRD, DTB);
    /** the path recorded for the domain XML, which libvirt hands over rather than keeps in a file */
    public static final String DOMAIN_XML_PATH = "domain.xml";
    /** longer than any path a host (PATH_MAX 4096) can give */
    static final int MAX_PATH = 4096;

    public HostFile {
        checkRole(role);
        if (path == null || path.isBlank() || path.length() > MAX_PATH) {
            throw new IllegalArgumentException("the " + role + " file needs the path it had on the host (1 to " + MAX_PATH + " characters)");
        }
        if (size < 0) {
            throw new IllegalArgumentException("the " + role + " file " + path + " has a negative size: " + size);
        }
        if (sha256 == null || sha256.length() != 64 || !sha256.chars().allMatch(HexFormat::isHexDigit)) {
            throw new IllegalArgumentException("the " + role + " file " + path + " needs its SHA-256 as 64 hex digits, not " + sha256);
        }
        sha256 = sha256.toLowerCase(java.util.Locale.ROOT);
        chunks = List.copyOf(Objects.requireNonNull(chunks, "chunks"));
        long sum = 0;
        for (FileChunk c : chunks) {
            sum += c.length();
        }
        if (sum != size) {
            throw new IllegalArgumentException("the chunks of the " + role + " file " + path + " hold " + sum + " bytes, its size is " + size);
        }
    }

    /** @throws IllegalArgumentException naming the roles there are, if {@code role} is not one */
    static void checkRole(String role) {
        if (!ROLES.contains(role)) {
            throw new IllegalArgumentException("'" + role + "' is not a host file role (one of " + String.join(", ", ROLES) + ")");
        }
    }
}
