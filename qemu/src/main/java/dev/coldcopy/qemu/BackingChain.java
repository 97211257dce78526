package dev.coldcopy.qemu;

import java.util.List;

/** A disk's images, top (the one the VM writes) first, down to the base. */
public record BackingChain(List<ImageLayer> layers) {

    public BackingChain {
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("a backing chain has at least one layer");
        }
        layers = List.copyOf(layers);
    }

    public ImageLayer top() {
        return layers.get(0);
    }

    /** The disk's size as the guest sees it: the top image's virtual size. */
    public long virtualSize() {
        return top().virtualSize();
    }

    public int depth() {
        return layers.size();
    }
}
