package dev.coldcopy.event;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One disk of a stopped VM as the event names it: the guest's target name, the top image and, when the VM's
 * definition declares it, the image format (qcow2 or raw; null: probed from the file).
 */
public record DiskSpec(String target, Path image, String format) {

    public DiskSpec(String target, Path image) {
        this(target, image, null);
    }

    public java.util.Optional<String> declaredFormat() {
        return java.util.Optional.ofNullable(format);
    }

    /**
     * Refuses two entries for one image file, also when they reach it through different paths, symlinks or
     * hard links (same device and inode): each target's backup would treat the other's checkpoint as obsolete,
     * and both would read one disk. A path that does not resolve (missing, unreadable) is compared as written;
     * the image policy refuses it later.
     */
    public static List<DiskSpec> requireDistinctImages(List<DiskSpec> disks) {
        Map<Path, DiskSpec> byPath = new HashMap<>();
        Map<Object, DiskSpec> byFile = new HashMap<>();
        for (DiskSpec d : disks) {
            Path real = realPath(d.image());
            DiskSpec first = byPath.putIfAbsent(real, d);
            if (first != null) {
                throw new BadEventException("disks '" + first.target() + "' and '" + d.target() + "' are the same image "
                        + real + (real.equals(d.image()) && real.equals(first.image()) ? "" : " (" + first.image() + ", "
                        + d.image() + ")") + ": a disk can be backed up once per event");
            }
            Object fileKey = fileKey(real);
            DiskSpec linked = fileKey == null ? null : byFile.putIfAbsent(fileKey, d);
            if (linked != null) {
                throw new BadEventException("disks '" + linked.target() + "' and '" + d.target() + "' are the same image: "
                        + linked.image() + " and " + d.image() + " are hard links to one file: a disk can be backed up once per event");
            }
        }
        return disks;
    }

    /** Device and inode; null where the file system has none or the file cannot be read. */
    private static Object fileKey(Path real) {
        try {
            return Files.readAttributes(real, BasicFileAttributes.class).fileKey();
        } catch (IOException | SecurityException e) {
            return null;
        }
    }

    private static Path realPath(Path image) {
        try {
            return image.toRealPath();
        } catch (IOException | SecurityException e) {
            return image.toAbsolutePath();
        }
    }
}
