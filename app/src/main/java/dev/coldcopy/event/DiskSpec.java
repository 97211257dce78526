package dev.coldcopy.event;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** One disk of a stopped VM as the event names it: the guest's target name and the top image. */
public record DiskSpec(String target, Path image) {

    /**
     * Refuses two entries for one image file, also when they reach it through different paths or symlinks:
     * each target's backup would treat the other's checkpoint as obsolete, and both would read one disk.
     * A path that does not resolve (missing, unreadable) is compared as written; the image policy refuses it later.
     */
    public static List<DiskSpec> requireDistinctImages(List<DiskSpec> disks) {
        Map<Path, DiskSpec> seen = new HashMap<>();
        for (DiskSpec d : disks) {
            Path real = realPath(d.image());
            DiskSpec first = seen.putIfAbsent(real, d);
            if (first != null) {
                throw new BadEventException("disks '" + first.target() + "' and '" + d.target() + "' are the same image "
                        + real + (real.equals(d.image()) && real.equals(first.image()) ? "" : " (" + first.image() + ", "
                        + d.image() + ")") + ": a disk can be backed up once per event");
            }
        }
        return disks;
    }

    private static Path realPath(Path image) {
        try {
            return image.toRealPath();
        } catch (IOException | SecurityException e) {
            return image.toAbsolutePath().normalize();
        }
    }
}
