package dev.coldcopy.nbd.protocol;

/**
 * Block size constraints of an export (NBD_INFO_BLOCK_SIZE). When the server advertises none,
 * {@link #DEFAULT} applies: 1 / 4096 / 32 MiB.
 */
public record BlockSize(int minimum, int preferred, int maximum) {
    public static final BlockSize DEFAULT = new BlockSize(1, 4096, 32 * 1024 * 1024);

    public BlockSize {
        if (minimum < 1 || Integer.bitCount(minimum) != 1 || minimum > 64 * 1024) {
            throw new IllegalArgumentException("block size minimum must be a power of two from 1 to 64 KiB: " + minimum);
        }
        if (preferred < minimum || maximum < minimum) {
            throw new IllegalArgumentException(
                    "block sizes must satisfy minimum <= preferred and minimum <= maximum: " + minimum + "/" + preferred + "/" + maximum);
        }
    }
}
