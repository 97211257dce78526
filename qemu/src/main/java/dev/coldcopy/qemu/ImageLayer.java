package dev.coldcopy.qemu;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** One image of a backing chain: its real path, format ("qcow2", "raw", ...), virtual size and bitmaps. */
public record ImageLayer(Path path, String format, long virtualSize, List<Bitmap> bitmaps) {

    public static final String QCOW2 = "qcow2";
    public static final String RAW = "raw";

    public ImageLayer {
        bitmaps = List.copyOf(bitmaps);
    }

    public boolean isQcow2() {
        return QCOW2.equals(format);
    }

    public Optional<Bitmap> bitmap(String name) {
        return bitmaps.stream().filter(b -> b.name().equals(name)).findFirst();
    }

    public boolean hasBitmap(String name) {
        return bitmap(name).isPresent();
    }
}
