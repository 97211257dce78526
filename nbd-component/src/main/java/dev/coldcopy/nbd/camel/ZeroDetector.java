package dev.coldcopy.nbd.camel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

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

    /** Granularity of zero detection: a 4 KiB block, aligned to the export. */
    public static final int BLOCK = 4096;

    /**
     * Splits {@code data}, read at export offset {@code offset}, into alternating data and zero pieces at
     * 4 KiB granularity (blocks aligned to the export). A zero run shorter than {@code minZeroRun} stays
     * inside its data piece, so that scattered zero blocks do not shred a chunk into slivers; an all-zero
     * buffer is always one zero piece.
     *
     * @return pieces as {@code {start, end, zero ? 1 : 0}} relative to {@code data}, in order, covering it
     */
    public static List<int[]> split(byte[] data, long offset, int minZeroRun) {
        List<int[]> runs = new ArrayList<>();
        int pos = 0;
        while (pos < data.length) {
            int boundary = (int) Math.min(data.length, BLOCK - Math.floorMod(offset + pos, (long) BLOCK) + (long) pos);
            int zero = isZero(data, pos, boundary) ? 1 : 0;
            int[] last = runs.isEmpty() ? null : runs.get(runs.size() - 1);
            if (last != null && last[2] == zero) {
                last[1] = boundary;
            } else {
                runs.add(new int[] {pos, boundary, zero});
            }
            pos = boundary;
        }
        if (runs.size() <= 1) {
            return runs;
        }
        // fold short zero runs back into data, then merge neighbours of the same kind
        List<int[]> out = new ArrayList<>();
        for (int[] r : runs) {
            if (r[2] == 1 && r[1] - r[0] < minZeroRun) {
                r[2] = 0;
            }
            int[] last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && last[2] == r[2]) {
                last[1] = r[1];
            } else {
                out.add(r);
            }
        }
        return out;
    }
}
