package dev.coldcopy.service.config;

import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.service.BackupSettings;
import dev.coldcopy.service.ColdcopyMain;
import dev.coldcopy.service.kafka.KafkaSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.camel.CamelContext;
import org.apache.camel.Route;
import org.apache.camel.main.Main;

/**
 * {@code run --check}: loads the configuration and every route exactly as {@code run} would (so a bad
 * value, an unknown placeholder or a broken route fails the same way), but starts no route and opens no
 * port; then prints what the service would use. Unknown keys and missing paths are reported as warnings.
 */
public final class ConfigurationCheck {
    private ConfigurationCheck() {}

    /** What the check found: lines describing the configuration, and warnings (empty when all is well). */
    public record Report(List<String> lines, List<String> warnings) {}

    public static Report run(Optional<Path> configDir, List<String> profiles, Map<String, String> overrides) throws Exception {
        Map<String, String> quiet = new LinkedHashMap<>(overrides);
        quiet.put("camel.main.autoStartup", "false");     // routes are built (endpoints resolved), never started
        quiet.put("camel.main.jmxEnabled", "false");
        ColdcopyMain service = new ColdcopyMain(configDir, profiles, quiet).withoutHttp();
        Main main = service.build();
        List<String> warnings = new ArrayList<>(service.warnings());
        List<String> lines = new ArrayList<>();
        main.start();
        try {
            CamelContext camel = main.getCamelContext();
            BackupSettings settings = BackupSettings.from(camel);
            RepositoryUri.parse(settings.repository());
            lines.add("configuration OK");
            lines.add("  home        " + camel.resolvePropertyPlaceholders("{{coldcopy.home}}"));
            lines.add("  spool       " + camel.resolvePropertyPlaceholders("{{coldcopy.spool.dir}}"));
            lines.add("  results     " + camel.resolvePropertyPlaceholders("{{coldcopy.results.uri}}"));
            lines.add("  dead letter " + camel.resolvePropertyPlaceholders("{{coldcopy.deadletter.uri}}"));
            lines.add("  repository  " + settings.repository());
            lines.add("  images      " + settings.allowedRoots().stream()
                    .map(r -> r + (Files.isDirectory(r) ? "" : " (does not exist)")).collect(Collectors.joining(", ")));
            lines.add("  HTTP        " + HttpAddresses.describe(camel) + " (POST /events, GET /events/{id}, /observe/health, /observe/metrics)");
            if (KafkaSettings.enabled(camel)) {
                lines.add("  kafka       " + kafka(camel));
            }
            lines.add("  routes      " + camel.getRoutes().stream().map(Route::getRouteId).sorted().collect(Collectors.joining(", ")));
            settings.keyFile().filter(f -> !Files.isReadable(f))
                    .ifPresent(f -> warnings.add("key file " + f + " (coldcopy.repository.key-file) cannot be read"));
        } finally {
            main.stop();
        }
        return new Report(lines, warnings);
    }

    /** Brokers, node, topics and what this node does with them (no client settings: they may hold secrets). */
    private static String kafka(CamelContext camel) {
        boolean consume = setting(camel, KafkaSettings.CONSUME).equals("true");
        boolean forward = setting(camel, KafkaSettings.FORWARD_SPOOL).equals("true");
        return setting(camel, KafkaSettings.BOOTSTRAP_SERVERS) + " as node " + KafkaSettings.node(camel)
                + ": events " + setting(camel, KafkaSettings.EVENTS_TOPIC)
                + (consume ? " (group " + setting(camel, KafkaSettings.GROUP_ID) + ")" : " (not consumed here)")
                + (forward ? ", the spool forwarded to it" : "")
                + ", results " + setting(camel, KafkaSettings.RESULTS_TOPIC)
                + ", event ids " + setting(camel, KafkaSettings.EVENT_IDS_TOPIC);
    }

    private static String setting(CamelContext camel, String key) {
        return camel.resolvePropertyPlaceholders("{{" + key + "}}").strip();
    }
}
