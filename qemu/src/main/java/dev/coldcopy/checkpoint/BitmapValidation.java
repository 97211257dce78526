package dev.coldcopy.checkpoint;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import dev.coldcopy.qemu.BackingChain;
import dev.coldcopy.qemu.Bitmap;
import dev.coldcopy.qemu.ImageLayer;

/**
 * The checkpoint rules libvirt, oVirt vdsm and KubeVirt apply before trusting a bitmap across a chain.
 * Walking from the top image down, the bitmap must be in the top image and in every layer down to the
 * oldest one that has it (a layer without it above one with it is a hole); every copy must be recording
 * ({@code auto}) and consistent (not {@code in-use}); raw images carry no bitmaps; all copies must cover
 * the same virtual size.
 *
 * @param layers the layers holding the bitmap, top first (empty when invalid)
 * @param problem why it cannot be used (empty when valid)
 */
public record BitmapValidation(String bitmap, List<ImageLayer> layers, Optional<String> problem) {

    public boolean valid() {
        return problem.isEmpty();
    }

    public static BitmapValidation of(BackingChain chain, String bitmap) {
        ImageLayer top = chain.top();
        if (!top.isQcow2()) {
            return invalid(bitmap, "raw layer in the chain: top image " + top.path() + " is " + top.format()
                    + ", which cannot carry bitmaps");
        }
        if (!top.hasBitmap(bitmap)) {
            return invalid(bitmap, "bitmap " + bitmap + " is missing from the top image " + top.path());
        }
        List<ImageLayer> holding = new ArrayList<>();
        int i = 0;
        while (i < chain.depth() && chain.layers().get(i).hasBitmap(bitmap)) {
            holding.add(chain.layers().get(i));
            i++;
        }
        for (int j = i + 1; j < chain.depth(); j++) {
            if (chain.layers().get(j).hasBitmap(bitmap)) {
                ImageLayer gap = chain.layers().get(i);
                if (!gap.isQcow2()) {
                    return invalid(bitmap, "raw layer in the chain: " + gap.path() + " is " + gap.format()
                            + " and lies between copies of bitmap " + bitmap);
                }
                return invalid(bitmap, "hole in the chain: bitmap " + bitmap + " is in " + chain.layers().get(j).path()
                        + " but not in " + gap.path() + " above it");
            }
        }
        for (ImageLayer layer : holding) {
            Bitmap b = layer.bitmap(bitmap).orElseThrow();
            if (b.inUse()) {
                return invalid(bitmap, "bitmap " + bitmap + " is in-use in " + layer.path()
                        + " (not saved cleanly: the image was not closed properly)");
            }
            if (!b.recording()) {
                return invalid(bitmap, "bitmap " + bitmap + " is disabled in " + layer.path()
                        + " (not recording writes)");
            }
        }
        for (ImageLayer layer : holding) {
            if (layer.virtualSize() != top.virtualSize()) {
                return invalid(bitmap, "size changed: " + layer.path() + " holding bitmap " + bitmap + " is "
                        + layer.virtualSize() + " bytes, the disk is " + top.virtualSize() + " bytes");
            }
        }
        return new BitmapValidation(bitmap, holding, Optional.empty());
    }

    private static BitmapValidation invalid(String bitmap, String problem) {
        return new BitmapValidation(bitmap, List.of(), Optional.of(problem));
    }
}
