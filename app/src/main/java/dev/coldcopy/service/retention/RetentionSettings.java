package dev.coldcopy.service.retention;

import dev.coldcopy.repository.lifecycle.KeepRules;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The service's retention policy: {@code coldcopy.retention.keep-last|hourly|daily|weekly|monthly|yearly}
 * (numbers, -1 = every period) and {@code coldcopy.retention.keep-within} (a duration such as 7d) for every
 * VM, and the same keys under {@code coldcopy.retention.vm.NAME.} for one VM (replacing the general rules
 * for that VM as a whole).
 */
public record RetentionSettings(KeepRules rules, Map<String, KeepRules> perVm) {
    public static final String PREFIX = "coldcopy.retention.";
    private static final Pattern PER_VM = Pattern.compile("coldcopy\\.retention\\.vm\\.(.+)\\.(keep-[a-z]+)");
    private static final String[] RULES = {"keep-last", "keep-hourly", "keep-daily", "keep-weekly", "keep-monthly", "keep-yearly", "keep-within"};

    /** whether a key is one of ours: a general rule or a per-VM one */
    public static boolean isRetentionKey(String key) {
        for (String rule : RULES) {
            if (key.equals(PREFIX + rule)) {
                return true;
            }
        }
        Matcher m = PER_VM.matcher(key);
        return m.matches() && java.util.Arrays.asList(RULES).contains(m.group(2));
    }

    /** true when nothing would ever be removed */
    public boolean isEmpty() {
        return rules.isEmpty() && perVm.values().stream().allMatch(KeepRules::isEmpty);
    }

    /**
     * @param properties every configured property (values already resolved)
     * @throws IllegalArgumentException naming the key of a bad value
     */
    public static RetentionSettings from(Properties properties) {
        KeepRules general = rules(key -> Optional.ofNullable(properties.getProperty(PREFIX + key)));
        Map<String, KeepRules> perVm = new TreeMap<>();
        for (String name : properties.stringPropertyNames()) {
            Matcher m = PER_VM.matcher(name);
            if (m.matches() && !perVm.containsKey(m.group(1))) {
                String vm = m.group(1);
                perVm.put(vm, rules(key -> Optional.ofNullable(properties.getProperty(PREFIX + "vm." + vm + "." + key))));
            }
        }
        return new RetentionSettings(general, perVm);
    }

    private static KeepRules rules(Function<String, Optional<String>> value) {
        return new KeepRules(count(value, "keep-last"), count(value, "keep-hourly"), count(value, "keep-daily"),
                count(value, "keep-weekly"), count(value, "keep-monthly"), count(value, "keep-yearly"),
                value.apply("keep-within").filter(v -> !v.isBlank()).map(v -> within(v)));
    }

    private static Duration within(String v) {
        try {
            return KeepRules.parseDuration(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(PREFIX + "keep-within: " + e.getMessage());
        }
    }

    private static int count(Function<String, Optional<String>> value, String key) {
        Optional<String> v = value.apply(key).map(String::strip).filter(s -> !s.isEmpty());
        if (v.isEmpty()) {
            return 0;
        }
        try {
            int n = Integer.parseInt(v.get());
            if (n < -1) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(PREFIX + key + " must be a number of snapshots (or -1 for every period), not '" + v.get() + "'");
        }
    }
}
