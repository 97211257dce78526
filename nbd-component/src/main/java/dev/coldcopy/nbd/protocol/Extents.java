package dev.coldcopy.nbd.protocol;

import java.util.ArrayList;
import java.util.List;

/** Pure operations on sorted, non-overlapping extent lists. */
public final class Extents {
    private Extents() {
    }

    /**
     * The dirty-and-allocated view: the ranges flagged {@link NbdProtocol#NBD_STATE_DIRTY} in {@code dirty},
     * split where {@code allocation} changes, each piece carrying the allocation flags (so
     * {@link Extent#isZero()} tells a ZERO piece from a DATA piece). Ranges absent from {@code allocation}
     * count as data. Adjacent pieces with equal flags are merged.
     */
    public static List<Extent> intersect(List<Extent> dirty, List<Extent> allocation) {
        List<Extent> out = new ArrayList<>();
        int j = 0;
        for (Extent d : dirty) {
            if (!d.isDirty() || d.length() == 0) {
                continue;
            }
            long at = d.offset();
            long end = d.end();
            while (at < end) {
                while (j < allocation.size() && allocation.get(j).end() <= at) {
                    j++;
                }
                if (j >= allocation.size() || allocation.get(j).offset() > at) {
                    long stop = j >= allocation.size() ? end : Math.min(end, allocation.get(j).offset());
                    add(out, new Extent(at, stop - at, 0));
                    at = stop;
                    continue;
                }
                Extent a = allocation.get(j);
                long stop = Math.min(end, a.end());
                add(out, new Extent(at, stop - at, a.flags()));
                at = stop;
            }
        }
        return out;
    }

    /** Adjacent extents with the same flags merged into one. */
    public static List<Extent> merge(List<Extent> extents) {
        List<Extent> out = new ArrayList<>(extents.size());
        for (Extent e : extents) {
            add(out, e);
        }
        return out;
    }

    /** Only the extents that hold data to copy (neither ZERO nor HOLE in base:allocation terms). */
    public static List<Extent> data(List<Extent> allocation) {
        List<Extent> out = new ArrayList<>();
        for (Extent e : allocation) {
            if (!e.isZero()) {
                add(out, e);
            }
        }
        return out;
    }

    /** Total length of the extents. */
    public static long totalLength(List<Extent> extents) {
        long sum = 0;
        for (Extent e : extents) {
            sum += e.length();
        }
        return sum;
    }

    private static void add(List<Extent> out, Extent e) {
        if (e.length() == 0) {
            return;
        }
        if (!out.isEmpty()) {
            Extent last = out.get(out.size() - 1);
            if (last.end() == e.offset() && last.flags() == e.flags()) {
                out.set(out.size() - 1, new Extent(last.offset(), last.length() + e.length(), last.flags()));
                return;
            }
        }
        out.add(e);
    }
}
