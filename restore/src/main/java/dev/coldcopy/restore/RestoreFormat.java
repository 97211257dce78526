package dev.coldcopy.restore;

import java.util.Locale;

/** The image format a restore writes. */
public enum RestoreFormat {
    RAW, QCOW2;

    public static RestoreFormat parse(String s) {
        try {
            return valueOf(s.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown image format '" + s + "' (use qcow2 or raw)");
        }
    }

    public String qemuName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
