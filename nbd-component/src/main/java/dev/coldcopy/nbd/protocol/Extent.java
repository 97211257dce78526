package dev.coldcopy.nbd.protocol;

/**
 * A range of the export with the flags one meta context gave it. For {@code base:allocation}:
 * {@link NbdProtocol#NBD_STATE_HOLE} = 1, {@link NbdProtocol#NBD_STATE_ZERO} = 2; for
 * {@code qemu:dirty-bitmap:*}: {@link NbdProtocol#NBD_STATE_DIRTY} = 1.
 */
public record Extent(long offset, long length, int flags) {
    public Extent {
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("extent offset and length must be >= 0: " + offset + "+" + length);
        }
    }

    public long end() {
        return offset + length;
    }

    public boolean isZero() {
        return (flags & NbdProtocol.NBD_STATE_ZERO) != 0;
    }

    public boolean isHole() {
        return (flags & NbdProtocol.NBD_STATE_HOLE) != 0;
    }

    public boolean isDirty() {
        return (flags & NbdProtocol.NBD_STATE_DIRTY) != 0;
    }
}
