package dev.coldcopy.event;

import java.util.regex.Pattern;

/**
 * The names that reach file names, bitmap names and qemu command lines. They are checked against a
 * strict pattern before anything uses them, so no shell or option metacharacter can get through.
 */
public final class Names {
    /** libvirt allows almost anything in a domain name; we accept the portable subset. */
    private static final Pattern VM = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]{0,127}");
    /** Guest disk targets: vda, sdb, hdc, nvme0n1 ... */
    private static final Pattern TARGET = Pattern.compile("[A-Za-z][A-Za-z0-9_-]{0,31}");
    /** qemu bitmap names may be up to 1023 bytes; libvirt checkpoint names are short and plain. */
    private static final Pattern CHECKPOINT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:+-]{0,254}");

    private Names() {}

    public static String vm(String name) {
        return check("vm", name, VM);
    }

    public static String target(String name) {
        return check("disk target", name, TARGET);
    }

    public static String checkpoint(String name) {
        return check("checkpoint", name, CHECKPOINT);
    }

    private static String check(String what, String value, Pattern pattern) {
        if (value == null || value.isEmpty()) {
            throw new BadEventException(what + " is empty");
        }
        if (!pattern.matcher(value).matches()) {
            throw new BadEventException(what + " '" + printable(value) + "' is not allowed (use letters, digits and ._-+ only)");
        }
        return value;
    }

    /** Keeps a hostile value from breaking the one-line reason it is quoted in. */
    static String printable(String value) {
        String shown = value.length() > 64 ? value.substring(0, 64) + "..." : value;
        StringBuilder sb = new StringBuilder(shown.length());
        shown.codePoints().forEach(c -> {
            if (c < 0x20 || c == 0x7f) {
                sb.append(String.format("\\x%02x", c));
            } else {
                sb.appendCodePoint(c);
            }
        });
        return sb.toString();
    }
}
