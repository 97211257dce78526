package dev.coldcopy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.process.ProcessResult;
import dev.coldcopy.process.ProcessRunner;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.service.ServiceHarness;
import dev.coldcopy.testing.QemuImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The service's serveSnapshot bean in a user's YAML route: serves the service's repository until the client is done. */
class ServeSnapshotRouteTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    @Timeout(180)
    void aServiceRouteServesASnapshotUntilItsLastClientLeavesOrItsTimeout() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Path disk = QemuImages.createQcow2(images.resolve("web.qcow2"), 16 * MIB);
        QemuImages.writePattern(disk, 0x5a, 3 * MIB, 2 * MIB);
        String repo = "file:" + dir.resolve("repo");
        CliRun backup = CliRun.coldcopy("backup", "--repo", repo, "--vm", "web", "--disk", "vda=" + disk, "--allow-root", images.toString(),
                "-Dcoldcopy.home=" + dir.resolve("cli-home"));
        assertThat(backup.exit()).as(backup.err()).isZero();
        Path routes = Files.createDirectories(dir.resolve("config").resolve("routes"));
        Files.writeString(routes.resolve("serve.yaml"), """
                - route:
                    id: serve-on-request
                    from:
                      uri: "direct:serve"
                      steps:
                        - process:
                            ref: serveSnapshot
                """);
        try (ServiceHarness service = new ServiceHarness(dir.resolve("home")).configDir(dir.resolve("config"))
                .repository(RepositoryUri.parse(repo), RepositoryOptions.defaults()).start()) {
            ProducerTemplate template = service.camel().createProducerTemplate();
            Exchange served = template.request("direct:serve", e -> e.getMessage().setHeaders(
                    new HashMap<>(Map.of("CamelColdcopyVm", "web", "CamelColdcopyDisk", "vda"))));
            assertThat(served.getException()).isNull();
            String uri = served.getMessage().getHeader("CamelColdcopyServeUri", String.class);
            assertThat(uri).startsWith("nbd+unix:///");
            Path socket = Path.of(uri.substring(uri.indexOf("socket=") + "socket=".length()));
            ProcessResult compare = ProcessRunner.run(List.of("qemu-img", "compare", "-f", "raw", "-F", "qcow2", uri, disk.toString()),
                    Duration.ofMinutes(1));
            assertThat(compare.exitCode()).as(compare.stdout() + compare.stderrOneLine()).isZero();
            assertThat(awaitGone(socket)).as("stopped after its client left").isTrue();

            Exchange idle = template.request("direct:serve", e -> e.getMessage().setHeaders(
                    new HashMap<>(Map.of("CamelColdcopyVm", "web", "CamelColdcopyDisk", "vda",
                            "CamelColdcopySnapshotId", served.getMessage().getHeader("CamelColdcopyServeSnapshot", String.class),
                            "CamelColdcopyServeTimeout", "PT1S"))));
            assertThat(idle.getException()).isNull();
            String idleUri = idle.getMessage().getHeader("CamelColdcopyServeUri", String.class);
            Path idleSocket = Path.of(idleUri.substring(idleUri.indexOf("socket=") + "socket=".length()));
            assertThat(idleSocket).exists();
            assertThat(awaitGone(idleSocket)).as("stopped at its timeout").isTrue();

            Exchange missing = template.request("direct:serve", e -> e.getMessage().setHeaders(
                    new HashMap<>(Map.of("CamelColdcopyVm", "db", "CamelColdcopyDisk", "vda"))));
            assertThat(missing.getException()).hasMessageStartingWith("no snapshot of db/vda in ");

            Exchange left = template.request("direct:serve", e -> e.getMessage().setHeaders(
                    new HashMap<>(Map.of("CamelColdcopyVm", "web", "CamelColdcopyDisk", "vda"))));
            String leftUri = left.getMessage().getHeader("CamelColdcopyServeUri", String.class);
            Path leftSocket = Path.of(leftUri.substring(leftUri.indexOf("socket=") + "socket=".length()));
            service.stop();
            assertThat(leftSocket).as("stopped with the service").doesNotExist();
        }
    }

    /** a served socket goes with its private directory when serving stops */
    private static boolean awaitGone(Path socket) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (Files.exists(socket) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        return !Files.exists(socket);
    }
}
