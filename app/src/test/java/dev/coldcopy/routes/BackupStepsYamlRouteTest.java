package dev.coldcopy.routes;

import static dev.coldcopy.testing.QemuImages.bitmaps;
import static dev.coldcopy.testing.QemuImages.createQcow2;
import static dev.coldcopy.testing.QemuImages.serversMentioning;
import static dev.coldcopy.testing.QemuImages.writePattern;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.service.BackupResult;
import dev.coldcopy.service.ColdcopyHeaders;
import dev.coldcopy.service.ColdcopyMain;
import dev.coldcopy.service.ServiceHarness;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.main.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The steps of the shipped backup route, by bean name, in a route of the user's own loaded from the
 * service's configuration directory — with a step of the user's between the store and the commit, and a
 * user step that fails. What the route commits restores byte for byte; what fails leaves the checkpoint as
 * it was and no export running.
 */
class BackupStepsYamlRouteTest {

    @TempDir
    Path dir;

    @Test
    void aUserRouteOfTheShippedStepsBacksUpRestoresAndRollsBack() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Path disk = createQcow2(images.resolve("vda.qcow2"), "16M");
        writePattern(disk, 5, 1 << 20, 1 << 20);
        Path config = Files.createDirectories(dir.resolve("config/routes"));
        Files.writeString(config.resolve("my-backup.yaml"), """
                - route:
                    id: my-backup
                    from:
                      uri: direct:my-backup
                      steps:
                        - doTry:
                            steps:
                              - process: { ref: lockDisk }
                              - process: { ref: inspectChain }
                              - process: { ref: planBackup }
                              - process: { ref: openExport }
                              - to: "nbd:uri?operation=chunks&outputType=chunk"
                              - split:
                                  simple: "${body}"
                                  streaming: true
                                  stopOnException: true
                                  steps:
                                    - process: { ref: storeChunk }
                              - to: direct:my-check
                              - process: { ref: commitSnapshot }
                              - process: { ref: commitCheckpoint }
                            doFinally:
                              steps:
                                - process: { ref: closeDiskBackup }
                - route:
                    id: my-check
                    from:
                      uri: direct:my-check
                      steps:
                        - to: mock:checked
                        - filter:
                            simple: "${header.fail} == 'yes'"
                            steps:
                              - throwException:
                                  exceptionType: java.lang.IllegalStateException
                                  message: "my check said no"
                """);
        Path home = dir.resolve("home");
        Main main = new ColdcopyMain(Optional.of(config.getParent()), List.of(), Map.of(
                "coldcopy.home", home.toString(),
                "coldcopy.allowed-roots", images.toString(),
                // the shipped routes come along with the user's (the webhook among them): HTTP on a free port
                "camel.server.port", Integer.toString(dev.coldcopy.testing.Tools.freePort()))).build();
        main.start();
        try {
            ProducerTemplate producer = main.getCamelContext().createProducerTemplate();
            List<String> kinds = new CopyOnWriteArrayList<>();
            Exchange full = producer.request("direct:my-backup", e -> headers(e, disk, "no"));
            assertThat(full.getException()).isNull();
            kinds.add(full.getMessage().getHeader(ColdcopyHeaders.BACKUP_KIND, String.class));
            BackupResult first = full.getMessage().getBody(BackupResult.class);
            assertThat(first.outcome()).isEqualTo("ok");
            assertThat(bitmaps(disk)).as("committed: the new checkpoint stays").containsExactly(first.checkpoint());
            Path atFirst = ServiceHarness.snapshotOfDisk(disk, dir.resolve("first.raw"));

            writePattern(disk, 7, 3 << 20, 64 << 10);
            Exchange failed = producer.request("direct:my-backup", e -> headers(e, disk, "yes"));
            assertThat(failed.getException()).hasMessageContaining("my check said no");
            assertThat(bitmaps(disk)).as("not committed: the new checkpoint went again").containsExactly(first.checkpoint());

            Exchange incremental = producer.request("direct:my-backup", e -> headers(e, disk, "no"));
            assertThat(incremental.getException()).isNull();
            kinds.add(incremental.getMessage().getHeader(ColdcopyHeaders.BACKUP_KIND, String.class));
            BackupResult second = incremental.getMessage().getBody(BackupResult.class);
            assertThat(second.bytesRead()).as("only the dirty 64 KiB were read").isLessThanOrEqualTo(1 << 20);
            assertThat(bitmaps(disk)).containsExactly(second.checkpoint());
            assertThat(kinds).containsExactly("full", "incremental");
            Path atSecond = ServiceHarness.snapshotOfDisk(disk, dir.resolve("second.raw"));

            try (Repository repository = Repository.open(RepositoryUri.parse(home.resolve("repository").toUri().toString()),
                    RepositoryOptions.builder().build())) {
                assertThat(repository.list(Optional.of("web"))).as("the failed try left no snapshot").hasSize(2);
                SnapshotManifest fullSnapshot = repository.load(SnapshotId.parse(first.snapshot()));
                SnapshotManifest incrementalSnapshot = repository.load(SnapshotId.parse(second.snapshot()));
                ServiceHarness.assertRestoresTo(repository, fullSnapshot, atFirst, dir.resolve("r1.qcow2"));
                ServiceHarness.assertRestoresTo(repository, incrementalSnapshot, atSecond, dir.resolve("r2.qcow2"));
            }

            // an image outside the allowed roots is refused by the service's policy, before any lock or export
            Path outside = createQcow2(dir.resolve("outside.qcow2"), "1M");
            Exchange refused = producer.request("direct:my-backup", e -> headers(e, outside, "no"));
            assertThat(refused.getException()).hasMessageContaining("outside");
            assertThat(bitmaps(outside)).isEmpty();
        } finally {
            main.stop();
        }
        assertThat(serversMentioning(dir.toString())).as("no export left running").isEmpty();
    }

    private static void headers(Exchange exchange, Path image, String fail) {
        exchange.getMessage().setHeader(ColdcopyHeaders.VM, "web");
        exchange.getMessage().setHeader(ColdcopyHeaders.DISK, "vda");
        exchange.getMessage().setHeader(ColdcopyHeaders.IMAGE, image.toString());
        exchange.getMessage().setHeader("fail", fail);
    }
}
