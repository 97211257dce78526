package dev.coldcopy.service;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.camel.main.Main;

/**
 * Builds the coldcopy service on Camel Main: the embedded defaults ({@code config/application.properties}
 * and the YAML routes in the jar), overridden by a configuration directory (its
 * {@code application.properties}, {@code application-PROFILE.properties} and a {@code routes/} folder of
 * YAML routes that replace the embedded ones), then by system properties and environment variables.
 */
public final class ColdcopyMain {

    private final Optional<Path> configDir;
    private final List<String> profiles;
    private final Map<String, String> overrides;
    private final String routeFiles;

    /** The whole service: every route file. */
    public ColdcopyMain(Optional<Path> configDir, List<String> profiles, Map<String, String> overrides) {
        this(configDir, profiles, overrides, "*.yaml");
    }

    /**
     * @param routeFiles which route files to load, e.g. {@code backup.yaml} for a one-off backup that
     *                   needs no event intake
     */
    public ColdcopyMain(Optional<Path> configDir, List<String> profiles, Map<String, String> overrides, String routeFiles) {
        this.configDir = configDir;
        this.profiles = List.copyOf(profiles);
        this.overrides = Map.copyOf(overrides);
        this.routeFiles = routeFiles;
    }

    public Main build() {
        Main main = new Main();
        main.setPropertyPlaceholderLocations(String.join(",", propertyLocations()));
        Properties initial = new Properties();
        initial.setProperty("coldcopy.home", ServiceHome.resolve().toString());
        initial.setProperty("camel.main.routesIncludePattern", routesPattern());
        main.setInitialProperties(initial);
        Properties override = new Properties();
        override.putAll(overrides);
        main.setOverrideProperties(override);
        ServiceBeans.bindAll(main);
        return main;
    }

    /**
     * Highest precedence first: Camel's properties component takes a key from the first location that
     * has it. So the configuration directory's profiles (the last named winning), then its
     * application.properties, then the embedded profiles, then the embedded defaults.
     */
    List<String> propertyLocations() {
        List<String> locations = new ArrayList<>();
        List<String> reversedProfiles = new ArrayList<>(profiles);
        java.util.Collections.reverse(reversedProfiles);
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

    /** Routes on disk replace the embedded ones as a whole, so a user's edit is never merged with a stale copy. */
    String routesPattern() {
        if (configDir.isPresent() && Files.isDirectory(configDir.get().resolve("routes"))) {
            return "file:" + configDir.get().resolve("routes") + "/" + routeFiles;
        }
        return "classpath:routes/" + routeFiles;
    }
}
