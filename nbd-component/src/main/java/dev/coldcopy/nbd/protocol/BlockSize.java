package dev.coldcopy.nbd.protocol;

/**
 * Block size constraints of an export (NBD_INFO_BLOCK_SIZE). The three fields are unsigned 32-bit on the
 * wire, held here as longs; a maximum of {@link #NO_MAXIMUM} (0xFFFFFFFF) means the server sets no limit
 * of its own. When the server advertises none, {@link #DEFAULT} applies: 1 / 4096 / 32 MiB.
 */
public record BlockSize(long minimum, long preferred, long maximum) {
    public static final BlockSize DEFAULT = new BlockSize(1, 4096, 32 * 1024 * 1024);
    /** The largest value of the 32-bit field: the server imposes no maximum of its own. */
    public static final long NO_MAXIMUM = 0xFFFFFFFFL;
    /** The spec lets a client refuse minimums above 64 KiB. */
    private static final long LARGEST_MINIMUM = 64 * 1024;

    public BlockSize {
        if (minimum < 1 || Long.bitCount(minimum) != 1 || minimum > LARGEST_MINIMUM) {
            throw new IllegalArgumentException("block size minimum must be a power of two from 1 to 64 KiB: " + minimum);
        }
        if (preferred > NO_MAXIMUM || maximum > NO_MAXIMUM) {
            throw new IllegalArgumentException("block sizes are 32-bit: " + minimum + "/" + preferred + "/" + maximum);
        }
        if (preferred < minimum || maximum < minimum) {
            throw new IllegalArgumentException(
                    "block sizes must satisfy minimum <= preferred and minimum <= maximum: " + minimum + "/" + preferred + "/" + maximum);
        }
    }

    /** Builds the record from the three unsigned 32-bit fields as they came off the wire. */
    static BlockSize fromWire(int minimum, int preferred, int maximum) {
        return new BlockSize(Integer.toUnsignedLong(minimum), Integer.toUnsignedLong(preferred), Integer.toUnsignedLong(maximum));
    }

    /** Whether the server said it has no maximum of its own (0xFFFFFFFF). */
    public boolean unlimited() {
        return maximum == NO_MAXIMUM;
    }
}
