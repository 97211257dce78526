package dev.coldcopy.qemu;

import java.util.Set;

/**
 * One persistent dirty bitmap of a qcow2 layer, as {@code qemu-img info} reports it
 * ({@code format-specific.data.bitmaps[]}).
 *
 * @param flags qemu's flags: {@value #FLAG_AUTO} (enabled: records guest writes), {@value #FLAG_IN_USE}
 *              (the image was not closed cleanly while the bitmap was loaded: its content is unreliable)
 */
public record Bitmap(String name, long granularity, Set<String> flags) {

    public static final String FLAG_AUTO = "auto";
    public static final String FLAG_IN_USE = "in-use";

    public Bitmap {
        flags = Set.copyOf(flags);
    }

    /** Records writes ({@code auto}): a disabled bitmap stopped tracking and cannot be a checkpoint. */
    public boolean recording() {
        return flags.contains(FLAG_AUTO);
    }

    /** {@code in-use} in a closed image: inconsistent, only fit for removal. */
    public boolean inUse() {
        return flags.contains(FLAG_IN_USE);
    }
}
