package dev.coldcopy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class DemoCommandTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void walkThroughEndsWithTwoIdenticalRestoresWhateverTheEnvironmentSays() throws Exception {
        // a user's own service settings in the environment must not leak into the demo's scratch service
        Path userHome = dir.resolve("user-home");
        CliRun demo = ColdcopyProcess.run(dir.resolve("process"), Duration.ofMinutes(3),
                Map.of("COLDCOPY_HOME", userHome.toString(), "COLDCOPY_SPOOL_DIR", userHome.resolve("spool").toString()),
                "demo", "--dir", dir.resolve("demo").toString());
        assertThat(demo.exit()).as(demo.err()).isZero();
        assertThat(demo.out())
                .contains("full snapshot", "incremental snapshot")
                .containsPattern("\\(full\\) -> restored-1.qcow2: Images are identical")
                .containsPattern("\\(incremental\\) -> restored-2.qcow2: Images are identical");
        assertThat(dir.resolve("demo")).doesNotExist();
        assertThat(userHome).as("the user's home is left alone").doesNotExist();
    }
}
