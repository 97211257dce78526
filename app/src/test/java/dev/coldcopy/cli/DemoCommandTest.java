package dev.coldcopy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class DemoCommandTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void walkThroughEndsWithTwoIdenticalRestores() {
        CliRun demo = CliRun.coldcopy("demo", "--dir", dir.resolve("demo").toString());
        assertThat(demo.exit()).as(demo.err()).isZero();
        assertThat(demo.out())
                .contains("full snapshot", "incremental snapshot")
                .containsPattern("\\(full\\) -> restored-1.qcow2: Images are identical")
                .containsPattern("\\(incremental\\) -> restored-2.qcow2: Images are identical");
        assertThat(dir.resolve("demo")).doesNotExist();
    }
}
