package dev.coldcopy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class DemoCommandTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void walkThroughEndsWithTwoIdenticalRestores() {
        CommandLine cli = ColdcopyCommand.newCommandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int status = cli.execute("demo", "--dir", dir.resolve("demo").toString());
        assertThat(status).as(err.toString()).isZero();
        assertThat(out.toString())
                .contains("full snapshot", "incremental snapshot")
                .containsPattern("\\(full\\) -> restored-1.qcow2: Images are identical")
                .containsPattern("\\(incremental\\) -> restored-2.qcow2: Images are identical");
        assertThat(dir.resolve("demo")).doesNotExist();
    }
}
