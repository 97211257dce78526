package dev.coldcopy.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.process.ProcessResult;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.repository.testing.ImageBackup;
import dev.coldcopy.repository.testing.StartedCamel;
import dev.coldcopy.serve.camel.ServeConstants;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** A route starting with coldcopy-serve: serves while it runs, tells who comes and goes, stops with the route. */
class ServeComponentTest {
    @TempDir
    Path work;
    @RegisterExtension
    final StartedCamel camel = new StartedCamel();

    @Test
    void aRouteServesTheLatestSnapshotWhileItRuns() throws Exception {
        Path image = ServeTest.makeImage(work.resolve("disk.qcow2"));
        Path repoDir = work.resolve("repo");
        SnapshotManifest m;
        try (Repository repo = Repository.init(RepositoryUri.parse("file:" + repoDir), RepositoryOptions.builder().camelContext(camel.context()).build())) {
            m = repo.load(ImageBackup.full(repo, image, "vm1", "vda"));
        }
        Path socket = work.resolve("serve.sock");
        List<Map<String, Object>> events = new CopyOnWriteArrayList<>();
        try (CamelContext context = new DefaultCamelContext()) {
            context.addRoutes(new RouteBuilder() {
                @Override
                public void configure() {
                    from("coldcopy-serve:vm1/vda?repository=file:" + repoDir + "&socket=" + socket + "&cacheSize=16777216")
                            .routeId("serve").process(e -> events.add(Map.copyOf(e.getIn().getHeaders())));
                }
            });
            context.start();
            String uri = "nbd+unix:///" + m.id().value() + "?socket=" + socket;
            ServeTest.assertSameAs(image, uri);
            awaitLastEvent(events, ServeConstants.DISCONNECTED);
            Map<String, Object> first = events.get(0);
            assertThat(first).containsEntry(ServeConstants.EVENT, ServeConstants.CONNECTED).containsEntry(ServeConstants.URI, uri)
                    .containsEntry(ServeConstants.CLIENTS, 1).containsEntry(ServeConstants.SNAPSHOT, m.id().value());
            assertThat(events.get(events.size() - 1)).containsEntry(ServeConstants.CLIENTS, 0);
            assertThat(events.stream().filter(e -> ServeConstants.CONNECTED.equals(e.get(ServeConstants.EVENT))).count())
                    .isEqualTo(events.stream().filter(e -> ServeConstants.DISCONNECTED.equals(e.get(ServeConstants.EVENT))).count());

            context.getRouteController().stopRoute("serve");
            assertThat(socket).as("the route's stop ends serving").doesNotExist();
            ProcessResult gone = ServeTest.run("qemu-img", "info", uri);
            assertThat(gone.exitCode()).isNotZero();

            context.getRouteController().startRoute("serve");
            ServeTest.assertSameAs(image, "nbd+unix:///?socket=" + socket);
        }
        assertThat(socket).doesNotExist();
    }

    @Test
    void aBadEndpointFailsTheRouteStartWithItsReason() throws Exception {
        try (CamelContext context = new DefaultCamelContext()) {
            context.addRoutes(new RouteBuilder() {
                @Override
                public void configure() {
                    from("coldcopy-serve:vm1?repository=file:/nowhere").to("log:x");
                }
            });
            assertThatThrownBy(context::start).hasStackTraceContaining("coldcopy-serve wants vm/disk");
        }
        try (CamelContext context = new DefaultCamelContext()) {
            context.addRoutes(new RouteBuilder() {
                @Override
                public void configure() {
                    from("coldcopy-serve:vm1/vda?repository=file:/nowhere&listen=0.0.0.0:0").to("log:x");
                }
            });
            assertThatThrownBy(context::start).hasStackTraceContaining("refusing to listen on 0.0.0.0");
        }
    }

    private static void awaitLastEvent(List<Map<String, Object>> events, String event) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            // qemu-img may reconnect right after a disconnect: settle on no client for a moment
            if (!events.isEmpty() && event.equals(events.get(events.size() - 1).get(ServeConstants.EVENT))) {
                Thread.sleep(300);
                if (event.equals(events.get(events.size() - 1).get(ServeConstants.EVENT))) {
                    return;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no final " + event + " event: " + events);
    }
}
