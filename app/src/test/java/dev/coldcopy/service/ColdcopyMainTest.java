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
}
