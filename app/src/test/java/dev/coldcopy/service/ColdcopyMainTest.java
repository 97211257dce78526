package dev.coldcopy.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.camel.CamelContext;
import org.apache.camel.main.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which setting wins: -D over the configuration directory (its profiles first) over the embedded defaults. */
class ColdcopyMainTest {

    @TempDir
    Path dir;

    @Test
    void configurationDirectoryAndProfilesOverrideTheEmbeddedDefaults() throws Exception {
        Files.writeString(dir.resolve("application.properties"), """
                coldcopy.spool.dir = /srv/coldcopy/spool
                coldcopy.retry.max = 5
                coldcopy.retry.delay-ms = 100
                """);
        Files.writeString(dir.resolve("application-slow.properties"), "coldcopy.retry.max = 9\ncoldcopy.retry.delay-ms = 200\n");
        Files.writeString(dir.resolve("application-patient.properties"), "coldcopy.retry.max = 12\n");

        Main main = new ColdcopyMain(Optional.of(dir), List.of("slow", "patient"),
                Map.of("camel.server.enabled", "false", "camel.management.enabled", "false", "coldcopy.retry.backoff", "3.5"),
                "backup.yaml").build();
        main.start();
        try {
            CamelContext camel = main.getCamelContext();
            assertThat(camel.resolvePropertyPlaceholders("{{coldcopy.spool.dir}}")).as("directory over embedded").isEqualTo("/srv/coldcopy/spool");
            assertThat(camel.resolvePropertyPlaceholders("{{coldcopy.retry.max}}")).as("the last profile named wins").isEqualTo("12");
            assertThat(camel.resolvePropertyPlaceholders("{{coldcopy.retry.delay-ms}}")).as("a profile over the directory's defaults").isEqualTo("200");
            assertThat(camel.resolvePropertyPlaceholders("{{coldcopy.retry.backoff}}")).as("-D over everything").isEqualTo("3.5");
            assertThat(camel.resolvePropertyPlaceholders("{{coldcopy.spool.poll-ms}}")).as("embedded default").isEqualTo("1000");
        } finally {
            main.stop();
        }
    }

    @Test
    void anEmbeddedProfileOverridesTheEmbeddedDefaults() throws Exception {
        Main main = new ColdcopyMain(Optional.empty(), List.of("s3"),
                Map.of("camel.server.enabled", "false", "camel.management.enabled", "false"), "backup.yaml").build();
        main.start();
        try {
            assertThat(main.getCamelContext().resolvePropertyPlaceholders("{{coldcopy.repository}}")).startsWith("s3://");
        } finally {
            main.stop();
        }
    }

    private static final Map<String, String> NO_HTTP = Map.of("camel.server.enabled", "false", "camel.management.enabled", "false");

    @Test
    void dashDBeatsTheEnvironmentWhichBeatsTheFiles() throws Exception {
        Files.writeString(dir.resolve("application.properties"), "coldcopy.retry.max = 5\ncoldcopy.retry.delay-ms = 100\n");
        Map<String, String> overrides = new java.util.HashMap<>(NO_HTTP);
        overrides.put("coldcopy.spool.dir", "/from/dash-d");
        Main main = new ColdcopyMain(Optional.of(dir), List.of(), overrides, "backup.yaml",
                Map.of("COLDCOPY_SPOOL_DIR", "/from/env", "COLDCOPY_RETRY_MAX", "7", "COLDCOPY_HOME", dir.resolve("home").toString())).build();
        main.start();
        try {
            CamelContext camel = main.getCamelContext();
            assertThat(camel.resolvePropertyPlaceholders("{{coldcopy.spool.dir}}")).as("-D over the environment").isEqualTo("/from/dash-d");
            assertThat(camel.resolvePropertyPlaceholders("{{coldcopy.retry.max}}")).as("environment over the directory").isEqualTo("7");
            assertThat(camel.resolvePropertyPlaceholders("{{coldcopy.retry.delay-ms}}")).as("directory over embedded").isEqualTo("100");
            assertThat(camel.resolvePropertyPlaceholders("{{coldcopy.results.uri}}")).isEqualTo("file:" + dir.resolve("home") + "/results");
        } finally {
            main.stop();
        }
    }

    @Test
    void aBadValueNamesItsKeyAndTheExpectedForm() {
        Map<String, String> overrides = new java.util.HashMap<>(NO_HTTP);
        overrides.put("coldcopy.retry.max", "abc");
        Main main = new ColdcopyMain(Optional.empty(), List.of(), overrides, "backup.yaml", Map.of()).build();
        try {
            org.assertj.core.api.Assertions.assertThatThrownBy(main::start)
                    .satisfies(e -> assertThat(Reasons.oneLine(e))
                            .isEqualTo("coldcopy.retry.max = 'abc' is not valid: expected a whole number >= 0, e.g. 3"));
        } finally {
            try {
                main.stop();
            } catch (Exception e) {
                // never started
            }
        }
    }

    @Test
    void unknownKeysAreWarnedAboutWithTheLikelyKey() throws Exception {
        Files.writeString(dir.resolve("application.properties"), "coldcopy.retry.maxx = 5\ncoldcopy.spool.dir = /x\n");
        Map<String, String> overrides = new java.util.HashMap<>(NO_HTTP);
        overrides.put("coldcopy.repositry", "file:/tmp/r");
        ColdcopyMain service = new ColdcopyMain(Optional.of(dir), List.of(), overrides, "backup.yaml", Map.of());
        service.build();
        assertThat(service.warnings()).containsExactlyInAnyOrder(
                "unknown setting coldcopy.repositry (-Dcoldcopy.repositry) is ignored: did you mean coldcopy.repository?",
                "unknown setting coldcopy.retry.maxx (" + dir.resolve("application.properties") + ") is ignored: did you mean coldcopy.retry.max?");
    }

    @Test
    void everyKeyInTheShippedConfigurationIsKnown() throws Exception {
        try (var files = Files.list(Path.of(System.getProperty("user.dir")).getParent().resolve("config"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".properties")).toList()) {
                java.util.Properties properties = new java.util.Properties();
                try (var reader = Files.newBufferedReader(file)) {
                    properties.load(reader);
                }
                assertThat(properties.stringPropertyNames()).as(file.toString())
                        .noneMatch(dev.coldcopy.service.config.KnownSettings::isUnknown);
            }
        }
    }

    @Test
    void shippedRoutesAreTheFilesInTheRoutesFolder() throws Exception {
        try (var files = Files.list(Path.of(System.getProperty("user.dir")).getParent().resolve("routes"))) {
            assertThat(files.map(f -> f.getFileName().toString()).sorted().toList()).isEqualTo(ColdcopyMain.SHIPPED_ROUTES);
        }
    }
}
