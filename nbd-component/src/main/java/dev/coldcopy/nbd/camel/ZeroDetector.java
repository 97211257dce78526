package dev.coldcopy.nbd.camel;

import java.util.Arrays;

/** Finds all-zero data, the way nbdcopy does, so zero blocks that are allocated are not stored. */
public final class ZeroDetector {

    private static final byte[] ZEROES = new byte[64 * 1024];

    private ZeroDetector() {}

    /** True when {@code data[from, to)} holds only zero bytes. */
    public static boolean isZero(byte[] data, int from, int to) {
        int pos = from;
        while (pos < to) {
            int n = Math.min(ZEROES.length, to - pos);
            // Arrays.mismatch is vectorised by the JIT: far faster than a byte loop
            if (Arrays.mismatch(data, pos, pos + n, ZEROES, 0, n) >= 0) {
                return false;
            }
            pos += n;
        }
        return true;
    }

    public static boolean isZero(byte[] data) {
        return isZero(data, 0, data.length);
    }
}
