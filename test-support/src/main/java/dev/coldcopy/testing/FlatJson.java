package dev.coldcopy.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Just enough JSON for what qemu-img and nbdinfo print: the innermost objects (a map entry, a bitmap, an
 * extent) and their number, boolean and string fields. Keeps test-support free of any library.
 */
final class FlatJson {
    private static final Pattern INNERMOST_OBJECT = Pattern.compile("\\{[^{}]*\\}");

    private FlatJson() {
    }

    static List<String> innermostObjects(String json) {
        List<String> objects = new ArrayList<>();
        Matcher m = INNERMOST_OBJECT.matcher(json);
        while (m.find()) {
            objects.add(m.group());
        }
        return objects;
    }

    static boolean has(String object, String key) {
        return object.contains("\"" + key + "\"");
    }

    /** The first number under {@code key}; in qemu-img info the image's own fields come first. */
    static long number(String json, String key) {
        return Long.parseLong(field(json, key, "(-?\\d+)"));
    }

    static boolean bool(String json, String key) {
        return Boolean.parseBoolean(field(json, key, "(true|false)"));
    }

    static String string(String json, String key) {
        return field(json, key, "\"((?:[^\"\\\\]|\\\\.)*)\"");
    }

    private static String field(String json, String key, String value) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*" + value).matcher(json);
        if (!m.find()) {
            throw new IllegalStateException("no \"" + key + "\" in " + json);
        }
        return m.group(1);
    }
}
