package dev.coldcopy.security;

import java.util.regex.Pattern;

/**
 * Strict patterns for the names that reach qemu command lines, QMP and file names. Arguments never pass
 * through a shell, but a name starting with '-' could still be read as an option, and names end up in
 * logs, bitmap names and NBD context names: so only a small alphabet is accepted, and the reason names the
 * first offending character.
 */
public final class Names {

    /** libvirt VM names in practice: letters, digits and {@code . _ + -}, not starting with '-' or '.'. */
    private static final Pattern VM_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}");
    /** Disk targets: vda, sdb, hdc, nvme0n1, ... */
    private static final Pattern DISK_TARGET = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,63}");
    /**
     * Bitmap (checkpoint) names: libvirt checkpoint names, virtnbdbackup's "virtnbdbackup.N", coldcopy's own.
     * qemu allows up to 1023 bytes of anything; 255 of this alphabet is plenty.
     */
    private static final Pattern CHECKPOINT = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._+:@-]{0,254}");
    private static final String SHELL_META = ";|&$`<>\"'\\*?(){}[]!~#\n\r\t ";
    /** In paths, spaces and brackets are ordinary; these never are (and ',' confuses qemu's option parser). */
    private static final String PATH_META = ";|&$`<>\"'\\*?,";

    private Names() {
    }

    public static String vmName(String name) {
        return check("VM name", name, VM_NAME);
    }

    public static String diskTarget(String name) {
        return check("disk target", name, DISK_TARGET);
    }

    public static String checkpoint(String name) {
        return check("checkpoint name", name, CHECKPOINT);
    }

    public static boolean isValidCheckpoint(String name) {
        return name != null && CHECKPOINT.matcher(name).matches();
    }

    private static String check(String what, String name, Pattern pattern) {
        if (name == null || name.isEmpty()) {
            throw new NameRefusedException(what + " is empty");
        }
        if (pattern.matcher(name).matches()) {
            return name;
        }
        throw new NameRefusedException("refused " + what + " '" + printable(name) + "': " + why(name, pattern));
    }

    private static String why(String name, Pattern pattern) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (SHELL_META.indexOf(c) >= 0 || Character.isISOControl(c)) {
                return "contains the shell metacharacter " + describe(c);
            }
        }
        if (name.startsWith("-") || name.startsWith(".")) {
            return "must not start with '" + name.charAt(0) + "'";
        }
        return "must match " + pattern.pattern();
    }

    static String describe(char c) {
        return switch (c) {
            case '\n' -> "newline";
            case '\r' -> "carriage return";
            case '\t' -> "tab";
            case ' ' -> "space";
            default -> Character.isISOControl(c) ? String.format("U+%04X", (int) c) : "'" + c + "'";
        };
    }

    /** Names go into messages: never echo control characters. */
    public static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            b.append(Character.isISOControl(c) ? '?' : c);
        }
        return b.length() > 80 ? b.substring(0, 80) + "..." : b.toString();
    }

    /** The first shell metacharacter or control character in {@code s}, or -1. */
    static int firstMeta(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (PATH_META.indexOf(c) >= 0 || Character.isISOControl(c)) {
                return i;
            }
        }
        return -1;
    }
}
