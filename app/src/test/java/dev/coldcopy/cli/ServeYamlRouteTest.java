package dev.coldcopy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.process.ProcessResult;
import dev.coldcopy.process.ProcessRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.camel.CamelContext;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.ResourceHelper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** coldcopy-serve: found by its scheme (the restore module's services file) and wired from YAML, as users write routes. */
class ServeYamlRouteTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void aYamlRouteServesTheLatestSnapshotAndReportsItsClients() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Path disk = QemuImages.createQcow2(images.resolve("web.qcow2"), 16 * MIB);
        QemuImages.writePattern(disk, 0x5a, 3 * MIB, 2 * MIB);
        String repo = "file:" + dir.resolve("repo");
        CliRun backup = CliRun.coldcopy("backup", "--repo", repo, "--vm", "web", "--disk", "vda=" + disk, "--allow-root", images.toString(),
                "-Dcoldcopy.home=" + dir.resolve("home"));
        assertThat(backup.exit()).as(backup.err()).isZero();
        Path socket = dir.resolve("web.sock");
        String yaml = """
                - route:
                    id: serve-web
                    from:
                      uri: "coldcopy-serve:web/vda?repository=%s&socket=%s"
                      steps:
                        - to: "mock:clients"
                """.formatted(repo, socket);
        CamelContext context = new DefaultCamelContext();
        try {
            PluginHelper.getRoutesLoader(context).loadRoutes(ResourceHelper.fromString("serve.yaml", yaml));
            MockEndpoint clients = context.getEndpoint("mock:clients", MockEndpoint.class);
            clients.expectedMessageCount(2);
            context.start();
            ProcessResult size = ProcessRunner.run(List.of("nbdinfo", "--size", "nbd+unix:///?socket=" + socket), Duration.ofMinutes(1));
            assertThat(size.stdout().strip()).as(size.stderrOneLine()).isEqualTo(Long.toString(16 * MIB));
            clients.setResultWaitTime(TimeUnit.SECONDS.toMillis(30));
            clients.assertIsSatisfied();
            assertThat(clients.getExchanges().get(0).getMessage().getHeader("CamelColdcopyServeEvent")).isEqualTo("connected");
            assertThat(clients.getExchanges().get(1).getMessage().getHeader("CamelColdcopyServeClients")).isEqualTo(0);
            assertThat(clients.getExchanges().get(1).getMessage().getHeader("CamelColdcopyServeUri", String.class))
                    .startsWith("nbd+unix:///").endsWith("?socket=" + socket);
        } finally {
            context.stop();
        }
        assertThat(socket).doesNotExist();
    }
}
