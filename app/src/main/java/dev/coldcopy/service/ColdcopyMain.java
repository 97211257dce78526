package dev.coldcopy.service;

import dev.coldcopy.service.config.HttpAddresses;
import dev.coldcopy.service.config.KnownSettings;
import dev.coldcopy.service.config.Setting;
import dev.coldcopy.service.kafka.KafkaSettings;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Predicate;
import org.apache.camel.CamelContext;
import org.apache.camel.component.properties.PropertiesComponent;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.Main;
import org.apache.camel.main.MainListenerSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the coldcopy service on Camel Main: the embedded defaults ({@code config/application.properties}
 * and the YAML routes in the jar), overridden by a configuration directory (its
 * {@code application.properties}, {@code application-PROFILE.properties} and a {@code routes/} folder of
 * YAML routes added to the embedded ones, a file of the same name replacing the embedded one), then by
 * environment variables, then by {@code -D} settings (the most specific, so the strongest).
 */
public final class ColdcopyMain {
    private static final Logger LOG = LoggerFactory.getLogger(ColdcopyMain.class);
    /** The route files in the jar ({@code routes/} of the source tree). */
    public static final List<String> SHIPPED_ROUTES = List.of("backup.yaml", "errors.yaml", "events.yaml", "kafka.yaml", "prune.yaml");
    /** Shipped route files loaded only when their setting is true (Kafka's need a broker: not by default). */
    static final Map<String, String> OPTIONAL_ROUTES = Map.of("kafka.yaml", KafkaSettings.ENABLED);
    private static final String ALL_ROUTES = "*.yaml";

    private final Optional<Path> configDir;
    private final List<String> profiles;
    private final Map<String, String> overrides;
    private final String routeFiles;
    private final Map<String, String> environment;
    private final List<String> warnings = new ArrayList<>();
    private boolean http = true;
    private boolean service;

    /** The whole service: every route file. */
    public ColdcopyMain(Optional<Path> configDir, List<String> profiles, Map<String, String> overrides) {
        this(configDir, profiles, overrides, ALL_ROUTES);
    }

    /**
     * @param routeFiles which route files to load, comma-separated, e.g. {@code backup.yaml,errors.yaml} for a
     *                   one-off backup that needs no event intake
     */
    public ColdcopyMain(Optional<Path> configDir, List<String> profiles, Map<String, String> overrides, String routeFiles) {
        this(configDir, profiles, overrides, routeFiles, System.getenv());
    }

    /** @param environment the environment variables to read settings from (the process's in production) */
    public ColdcopyMain(Optional<Path> configDir, List<String> profiles, Map<String, String> overrides, String routeFiles,
            Map<String, String> environment) {
        this.configDir = configDir;
        this.profiles = List.copyOf(profiles);
        this.overrides = Map.copyOf(overrides);
        this.routeFiles = routeFiles;
        this.environment = Map.copyOf(environment);
    }

    /** No HTTP server at all (a one-shot command, or {@code run --check}). */
    public ColdcopyMain withoutHttp() {
        this.http = false;
        return this;
    }

    /**
     * The long-running service ({@code run}): warns about allowed image roots that do not exist (a
     * one-shot backup names its own image, so the default roots are no concern of it).
     */
    public ColdcopyMain asService() {
        this.service = true;
        return this;
    }

    public Main build() {
        Main main = new Main();
        main.setPropertyPlaceholderLocations(String.join(",", propertyLocations()));
        Properties initial = new Properties();
        initial.setProperty("coldcopy.home", ServiceHome.resolve(environment).toString());
        main.setInitialProperties(initial);
        Properties override = new Properties();
        override.putAll(effectiveOverrides());
        main.setOverrideProperties(override);
        warnings.clear();
        warnings.addAll(unknownKeys());
        warnings.forEach(LOG::warn);
        main.addMainListener(new MainListenerSupport() {
            @Override
            public void beforeConfigure(BaseMainSupport configuring) {
                // Camel would let any environment variable beat every other source, -D included; the
                // environment is folded into the overrides above instead, below the -D settings.
                if (configuring.getCamelContext().getPropertiesComponent() instanceof PropertiesComponent properties) {
                    properties.setEnvironmentVariableMode(PropertiesComponent.ENVIRONMENT_VARIABLES_MODE_NEVER);
                }
                checkValues(configuring.getCamelContext());
                // which shipped routes to load depends on the settings (kafka.yaml on coldcopy.kafka.enabled),
                // known only now that every source of them is read, and before Camel loads any route
                CamelContext camel = configuring.getCamelContext();
                configuring.configure().setRoutesIncludePattern(routesPattern(key -> camel.getPropertiesComponent()
                        .resolveProperty(key).map(v -> v.strip().equalsIgnoreCase("true")).orElse(false)));
            }

            @Override
            public void afterConfigure(BaseMainSupport configured) {
                CamelContext camel = configured.getCamelContext();
                if (http) {
                    HttpAddresses.requireFree(camel);
                }
                if (service) {
                    BackupSettings.from(camel).allowedRoots().stream().filter(r -> !Files.isDirectory(r))
                            .forEach(r -> LOG.warn("allowed image root {} does not exist (coldcopy.allowed-roots)", r));
                }
            }
        });
        // only a service that takes events releases the ones its last stop interrupted (not a check, not a one-shot)
        ServiceBeans.bindAll(main, ALL_ROUTES.equals(routeFiles) && http);
        return main;
    }

    /** Warnings found while building (unknown keys), for {@code run --check}. */
    public List<String> warnings() {
        return List.copyOf(warnings);
    }

    /**
     * Environment variables for the keys we know (COLDCOPY_SPOOL_DIR for coldcopy.spool.dir), then the
     * -D settings over them: the setting typed on the command line is the most specific.
     */
    Map<String, String> effectiveOverrides() {
        Map<String, String> effective = new LinkedHashMap<>();
        for (Setting setting : KnownSettings.all()) {
            String value = environment.get(setting.environmentVariable());
            if (value != null) {
                effective.put(setting.key(), value);
            }
        }
        effective.putAll(overrides);
        if (!http) {
            effective.put("camel.server.enabled", "false");
            effective.put("camel.management.enabled", "false");
        }
        return effective;
    }

    /** A coldcopy.* key we do not read is a typo or a leftover: say so instead of ignoring it. */
    private List<String> unknownKeys() {
        List<String> found = new ArrayList<>();
        for (String key : overrides.keySet()) {
            unknownKey(key, "-D" + key).ifPresent(found::add);
        }
        configDir.ifPresent(dir -> {
            List<Path> files = new ArrayList<>();
            files.add(dir.resolve("application.properties"));
            profiles.forEach(p -> files.add(dir.resolve("application-" + p + ".properties")));
            for (Path file : files) {
                if (!Files.isRegularFile(file)) {
                    continue;
                }
                Properties properties = new Properties();
                try (Reader reader = Files.newBufferedReader(file)) {
                    properties.load(reader);
                } catch (IOException | IllegalArgumentException e) {
                    throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
                }
                properties.stringPropertyNames().stream().sorted()
                        .forEach(key -> unknownKey(key, file.toString()).ifPresent(found::add));
            }
        });
        return found;
    }

    private static Optional<String> unknownKey(String key, String where) {
        if (!KnownSettings.isUnknown(key)) {
            return Optional.empty();
        }
        return Optional.of("unknown setting " + key + " (" + where + ") is ignored"
                + KnownSettings.closest(key).map(k -> ": did you mean " + k + "?").orElse(""));
    }

    /** Every known key that has a value must have the right form; the first bad one stops the start. */
    static void checkValues(CamelContext camel) {
        for (Setting setting : KnownSettings.all()) {
            Optional<String> value;
            try {
                value = camel.getPropertiesComponent().resolveProperty(setting.key());
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(setting.key() + ": " + Reasons.oneLine(e), e);
            }
            value.flatMap(setting::check).ifPresent(problem -> {
                throw new IllegalArgumentException(problem);
            });
        }
        // per-VM retention keys (coldcopy.retention.vm.NAME.keep-*) have no fixed name: checked as a whole
        dev.coldcopy.service.retention.RetentionSettings.from(camel.getPropertiesComponent().loadProperties());
    }

    /**
     * Highest precedence first: Camel's properties component takes a key from the first location that
     * has it. So the configuration directory's profiles (the last named winning), then its
     * application.properties, then the embedded profiles, then the embedded defaults.
     */
    List<String> propertyLocations() {
        List<String> locations = new ArrayList<>();
        List<String> reversedProfiles = new ArrayList<>(profiles);
        Collections.reverse(reversedProfiles);
        configDir.ifPresent(dir -> {
            for (String profile : reversedProfiles) {
                locations.add("file:" + dir.resolve("application-" + profile + ".properties") + ";optional=true");
            }
            locations.add("file:" + dir.resolve("application.properties") + ";optional=true");
        });
        for (String profile : reversedProfiles) {
            locations.add("classpath:config/application-" + profile + ".properties;optional=true");
        }
        locations.add("classpath:config/application.properties");
        return locations;
    }

    /**
     * The shipped routes plus the configuration directory's {@code routes/*.yaml}: a user's own route is
     * added next to ours, and one of ours is replaced only by a file of the same name (so adding a route
     * never silently drops the webhook or the spool). An optional shipped file ({@link #OPTIONAL_ROUTES}),
     * or the user's file of its name, is loaded only when its setting is on.
     */
    String routesPattern(Predicate<String> settingOn) {
        Optional<Path> userRoutes = configDir.map(d -> d.resolve("routes")).filter(Files::isDirectory);
        List<String> patterns = new ArrayList<>();
        List<String> shipped = ALL_ROUTES.equals(routeFiles) ? SHIPPED_ROUTES : List.of(routeFiles.split(","));
        for (String name : shipped) {
            if (OPTIONAL_ROUTES.containsKey(name) && !settingOn.test(OPTIONAL_ROUTES.get(name))) {
                continue;
            }
            if (userRoutes.isPresent() && Files.isRegularFile(userRoutes.get().resolve(name))) {
                patterns.add("file:" + userRoutes.get().resolve(name));
            } else {
                patterns.add("classpath:routes/" + name);
            }
        }
        if (userRoutes.isPresent() && ALL_ROUTES.equals(routeFiles)) {
            try (var files = Files.list(userRoutes.get())) {
                files.filter(f -> f.getFileName().toString().endsWith(".yaml"))
                        .filter(f -> !SHIPPED_ROUTES.contains(f.getFileName().toString()))
                        .sorted()
                        .forEach(f -> patterns.add("file:" + f));
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot list " + userRoutes.get() + ": " + e.getMessage(), e);
            }
        }
        return String.join(",", patterns);
    }
}
