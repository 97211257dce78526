package dev.coldcopy.nbd.protocol;

/**
 * Names of the NBD meta contexts coldcopy asks for ({@code NBD_OPT_SET_META_CONTEXT}): the one place they are
 * spelled, so that a client, a server and a backup agree on them.
 */
public final class MetaContexts {
    /** The spec's allocation context: flags {@link NbdProtocol#NBD_STATE_HOLE} and {@link NbdProtocol#NBD_STATE_ZERO}. */
    public static final String BASE_ALLOCATION = "base:allocation";
    /** qemu's persistent dirty bitmaps, one context per bitmap: flag {@link NbdProtocol#NBD_STATE_DIRTY}. */
    public static final String QEMU_DIRTY_BITMAP_PREFIX = "qemu:dirty-bitmap:";
    /** qemu's backing-chain depth of each range (0 = absent, 1 = this image, n = n-1 backing files down). */
    public static final String QEMU_ALLOCATION_DEPTH = "qemu:allocation-depth";

    private MetaContexts() {
    }

    /** The context qemu exports for the dirty bitmap {@code bitmap}. */
    public static String dirtyBitmap(String bitmap) {
        return QEMU_DIRTY_BITMAP_PREFIX + bitmap;
    }

    /** True when {@code context} names one of qemu's dirty bitmaps. */
    public static boolean isDirtyBitmap(String context) {
        return context != null && context.startsWith(QEMU_DIRTY_BITMAP_PREFIX);
    }
}
