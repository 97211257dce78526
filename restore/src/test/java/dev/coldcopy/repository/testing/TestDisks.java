package dev.coldcopy.repository.testing;

import dev.coldcopy.testing.QemuImages;
import java.nio.file.Path;
import java.util.Random;

/** The qcow2 disks the restore and serve tests back up, each a known mix of what a restore must get right. */
public final class TestDisks {
    public static final long MIB = 1024 * 1024;
    public static final long MIXED_SIZE = 64 * MIB;

    private TestDisks() {
    }

    /** 64 MiB: random data, text, zero clusters, a pattern, data with a zeroed middle, and holes. */
    public static Path mixed(Path image, long seed) {
        Random r = new Random(seed);
        QemuImages.createQcow2(image, MIXED_SIZE);
        QemuImages.writeRandom(image, 0, (int) (8 * MIB), r);
        QemuImages.writeText(image, 16 * MIB, (int) (6 * MIB), r);
        QemuImages.io(image, "write -z 24M 4M", "write -P 0xab 30M 2M", "write -P 0x5c 48M 4M", "write -z 49M 1M");
        QemuImages.writeRandom(image, 40 * MIB + 512 * 1024, (int) MIB, r);
        return image;
    }

    /** 24 MiB: 6 MiB of random data, 5 MiB of text, holes around them. */
    public static Path dataAndText(Path image) {
        Path disk = QemuImages.createQcow2(image, 24 * MIB);
        Random r = new Random(3);
        QemuImages.writeRandom(disk, 0, (int) (6 * MIB), r);
        QemuImages.writeText(disk, 12 * MIB, (int) (5 * MIB), r);
        return disk;
    }
}
