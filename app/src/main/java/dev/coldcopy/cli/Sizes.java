package dev.coldcopy.cli;

/** Byte counts as people read them (binary units). */
final class Sizes {
    private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};

    private Sizes() {}

    static String human(long bytes) {
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < UNITS.length - 1) {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? bytes + " B" : String.format("%.1f %s", value, UNITS[unit]);
    }

    /** "256M", "1G", "512KiB", "4096": binary units, a bare number is bytes */
    static long parse(String text) {
        String t = text.strip();
        int i = 0;
        while (i < t.length() && Character.isDigit(t.charAt(i))) {
            i++;
        }
        if (i == 0) {
            throw new IllegalArgumentException("'" + text + "' is not a size (examples: 256M, 1G, 4096)");
        }
        long number = Long.parseLong(t.substring(0, i));
        String unit = t.substring(i).strip().toUpperCase(java.util.Locale.ROOT).replace("IB", "").replace("B", "");
        int shift = switch (unit) {
            case "" -> 0;
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            case "T" -> 40;
            default -> throw new IllegalArgumentException("'" + text + "' is not a size (units: K, M, G, T)");
        };
        if (number > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("size '" + text + "' is too large");
        }
        return number << shift;
    }
}
