package dev.coldcopy.nbd.camel;

import dev.coldcopy.nbd.protocol.Extent;
import dev.coldcopy.nbd.protocol.Extents;
import dev.coldcopy.nbd.protocol.MetaContexts;
import java.util.List;

/**
 * Extent maps printed the way {@code nbdinfo --map[=CONTEXT] [--json]} prints them (libnbd 1.14), so
 * that the two can be compared line for line. Pure logic.
 */
public final class NbdinfoMap {

    private NbdinfoMap() {}

    /** Merges adjacent extents with equal flags (the server may split a run at arbitrary places). */
    public static List<Extent> merge(List<Extent> extents) {
        return Extents.merge(extents);
    }

    /** The words nbdinfo uses for a flag value of a context, or null when it has none. */
    public static String describe(String context, int flags) {
        if (MetaContexts.BASE_ALLOCATION.equals(context)) {
            return switch (flags) {
                case 0 -> "data";
                case 1 -> "hole";
                case 2 -> "zero";
                case 3 -> "hole,zero";
                default -> null;
            };
        }
        if (MetaContexts.isDirtyBitmap(context)) {
            return switch (flags) {
                case 0 -> "clean";
                case 1 -> "dirty";
                default -> null;
            };
        }
        if (MetaContexts.QEMU_ALLOCATION_DEPTH.equals(context)) {
            return switch (flags) {
                case 0 -> "absent";
                case 1 -> "local";
                default -> "backing depth " + Integer.toUnsignedString(flags);
            };
        }
        return null;
    }

    /** One line per extent: {@code offset length flags description}, columns as nbdinfo aligns them. */
    public static String toText(String context, List<Extent> extents) {
        // padded by hand: String.format parses its pattern on every call, which made a 1 TiB disk's
        // 200k-line dirty map take seconds
        StringBuilder sb = new StringBuilder(extents.size() * 40);
        for (Extent e : extents) {
            pad(sb, Long.toString(e.offset()), 10).append("  ");
            pad(sb, Long.toString(e.length()), 10).append("  ");
            pad(sb, Integer.toUnsignedString(e.flags()), 3);
            String description = describe(context, e.flags());
            if (description != null) {
                sb.append("  ").append(description);
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static StringBuilder pad(StringBuilder sb, String value, int width) {
        for (int i = value.length(); i < width; i++) {
            sb.append(' ');
        }
        return sb.append(value);
    }

    /** A JSON array of {@code {offset, length, type, description}} objects, laid out as nbdinfo does. */
    public static String toJson(String context, List<Extent> extents) {
        StringBuilder sb = new StringBuilder("[\n");
        for (int i = 0; i < extents.size(); i++) {
            Extent e = extents.get(i);
            sb.append("{ \"offset\": ").append(e.offset())
              .append(", \"length\": ").append(e.length())
              .append(", \"type\": ").append(Integer.toUnsignedString(e.flags()));
            String description = describe(context, e.flags());
            if (description != null) {
                // descriptions are fixed ASCII words: nothing to escape
                sb.append(", \"description\": \"").append(description).append('"');
            }
            sb.append('}').append(i + 1 < extents.size() ? ",\n" : "\n");
        }
        if (extents.isEmpty()) {
            sb.append('\n'); // nbdinfo prints an empty line between the brackets of an empty map
        }
        return sb.append("]\n").toString();
    }
}
