package dev.coldcopy.service.config;

import dev.coldcopy.service.config.Setting.Form;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Every {@code coldcopy.*} key the service reads (documented in {@code config/application.properties}),
 * and the {@code camel.*} keys the README names. A {@code coldcopy.*} key not listed here is a typo or a
 * leftover: it is warned about, never silently ignored.
 */
public final class KnownSettings {
    private static final Map<String, Setting> SETTINGS = new LinkedHashMap<>();

    static {
        add("coldcopy.home", Form.TEXT);
        add("coldcopy.spool.dir", Form.TEXT);
        add("coldcopy.spool.poll-ms", Form.POSITIVE_NUMBER);
        add("coldcopy.spool.target", Form.TEXT);
        add("coldcopy.events.max-bytes", Form.EVENT_SIZE);
        add("coldcopy.results.uri", Form.TEXT);
        add("coldcopy.deadletter.uri", Form.TEXT);
        add("coldcopy.work.dir", Form.TEXT);
        add("coldcopy.allowed-roots", Form.TEXT);
        add("coldcopy.allowed-file-roots", Form.TEXT);
        add("coldcopy.repository", Form.TEXT);
        add("coldcopy.repository.compression-level", Form.POSITIVE_NUMBER);
        add("coldcopy.repository.fsync", Form.BOOLEAN);
        add("coldcopy.repository.key-file", Form.TEXT);
        add("coldcopy.repository.s3.access-key", Form.TEXT);
        add("coldcopy.repository.s3.secret-key", Form.TEXT);
        // checked (with the key's name and the expected form) by S3Settings when the repository opens
        for (String name : dev.coldcopy.service.BackupSettings.S3_SETTINGS) {
            add("coldcopy.repository.s3." + name, Form.TEXT);
        }
        add("coldcopy.repository.sftp.private-key-file", Form.TEXT);
        add("coldcopy.repository.sftp.known-hosts-file", Form.TEXT);
        add("coldcopy.export.way", Form.EXPORT_WAY);
        add("coldcopy.parallel.disks", Form.POSITIVE_NUMBER);
        add("coldcopy.nbd.chunk-size", Form.POSITIVE_NUMBER);
        add("coldcopy.nbd.max-in-flight", Form.POSITIVE_NUMBER);
        add("coldcopy.retry.max", Form.WHOLE_NUMBER);
        add("coldcopy.retry.delay-ms", Form.WHOLE_NUMBER);
        add("coldcopy.retry.backoff", Form.DECIMAL);
        add("coldcopy.disk-lock.wait-seconds", Form.WHOLE_NUMBER);
        add("coldcopy.prune.schedule", Form.PERIOD);
        add("coldcopy.prune.delay", Form.PERIOD);
        for (String rule : new String[] {"last", "hourly", "daily", "weekly", "monthly", "yearly"}) {
            add("coldcopy.retention.keep-" + rule, Form.KEEP_COUNT);
        }
        add("coldcopy.retention.keep-within", Form.KEEP_WITHIN);
        // the kafka profile (config/application-kafka.properties, routes/kafka.yaml)
        add("coldcopy.kafka.enabled", Form.BOOLEAN);
        add("coldcopy.kafka.bootstrap-servers", Form.TEXT);
        add("coldcopy.kafka.events-topic", Form.TEXT);
        add("coldcopy.kafka.results-topic", Form.TEXT);
        add("coldcopy.kafka.event-ids-topic", Form.TEXT);
        add("coldcopy.kafka.group-id", Form.TEXT);
        add("coldcopy.kafka.node", Form.TEXT);
        add("coldcopy.kafka.consume", Form.BOOLEAN);
        add("coldcopy.kafka.forward-spool", Form.BOOLEAN);
        add("coldcopy.kafka.max-poll-interval-ms", Form.POSITIVE_NUMBER);
        add("coldcopy.kafka.session-timeout-ms", Form.POSITIVE_NUMBER);
        add("coldcopy.kafka.heartbeat-interval-ms", Form.POSITIVE_NUMBER);
        add("coldcopy.kafka.send-timeout-ms", Form.POSITIVE_NUMBER);
        add("camel.server.enabled", Form.BOOLEAN);
        add("camel.server.host", Form.TEXT);
        add("camel.server.port", Form.PORT);
        add("camel.management.enabled", Form.BOOLEAN);
        add("camel.management.host", Form.TEXT);
        add("camel.management.port", Form.PORT);
    }

    private KnownSettings() {}

    private static void add(String key, Form form) {
        SETTINGS.put(key, new Setting(key, form));
    }

    public static Optional<Setting> find(String key) {
        return Optional.ofNullable(SETTINGS.get(key));
    }

    public static Iterable<Setting> all() {
        return SETTINGS.values();
    }

    /** Keys of ours that we would not understand (camel.* keys belong to Camel, which checks its own). */
    public static boolean isUnknown(String key) {
        return key.startsWith("coldcopy.") && !SETTINGS.containsKey(key) && !isPerVmRetention(key);
    }

    /** coldcopy.retention.vm.NAME.keep-RULE: checked by the general rule's form */
    private static boolean isPerVmRetention(String key) {
        return key.startsWith("coldcopy.retention.vm.") && dev.coldcopy.service.retention.RetentionSettings.isRetentionKey(key);
    }

    /** The known key closest to a mistyped one, when it is close enough to be a likely typo. */
    public static Optional<String> closest(String key) {
        return SETTINGS.keySet().stream()
                .filter(k -> k.startsWith("coldcopy."))
                .min(Comparator.comparingInt(k -> distance(k, key)))
                .filter(k -> distance(k, key) <= Math.max(3, key.length() / 4));
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j] + 1, current[j - 1] + 1));
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
