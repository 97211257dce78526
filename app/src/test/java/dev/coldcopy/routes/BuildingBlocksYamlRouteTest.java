package dev.coldcopy.routes;

import static dev.coldcopy.testing.QemuImages.bitmaps;
import static dev.coldcopy.testing.QemuImages.createQcow2;
import static dev.coldcopy.testing.QemuImages.serversMentioning;
import static dev.coldcopy.testing.QemuImages.writePattern;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.nbd.protocol.ExportInfo;
import dev.coldcopy.processors.BackupHeaders;
import dev.coldcopy.service.ColdcopyMain;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.camel.Exchange;
import org.apache.camel.main.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The processors module's building blocks by bean name in a route of the user's own, loaded by the
 * service from its configuration directory: inspect, plan, export, read over NBD, commit the checkpoint.
 */
class BuildingBlocksYamlRouteTest {

    @TempDir
    Path dir;

    @Test
    void aUserRouteExportsADiskAndCommitsItsCheckpoint() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Path disk = createQcow2(images.resolve("vda.qcow2"), "8M");
        writePattern(disk, 5, 1 << 20, 1 << 20);
        Path config = Files.createDirectories(dir.resolve("config/routes"));
        Files.writeString(config.resolve("my-export.yaml"), """
                - route:
                    id: my-export
                    from:
                      uri: direct:my-export
                      steps:
                        - process:
                            ref: inspectChain
                        - process:
                            ref: planBackup
                        - process:
                            ref: openExport
                        - setHeader:
                            name: CamelNbdUri
                            simple: "${header.CamelColdcopyNbdUri}"
                        - to: "nbd:uri?operation=info"
                        - process:
                            ref: commitCheckpoint
                """);
        Main main = new ColdcopyMain(Optional.of(config.getParent()), List.of(), Map.of(
                "coldcopy.home", dir.resolve("home").toString(),
                "coldcopy.allowed-roots", images.toString(),
                // the shipped routes come along with the user's (the webhook among them): HTTP on a free port
                "camel.server.port", Integer.toString(dev.coldcopy.testing.Tools.freePort()))).build();
        main.start();
        try {
            Exchange ex = main.getCamelContext().createProducerTemplate().request("direct:my-export", e -> {
                e.getMessage().setHeader(BackupHeaders.IMAGE, disk.toString());
                e.getMessage().setHeader(BackupHeaders.REPOSITORY_ID, "r1");
            });
            assertThat(ex.getException()).isNull();
            assertThat(ex.getMessage().getHeader(BackupHeaders.BACKUP_KIND)).isEqualTo("full");
            assertThat(ex.getMessage().getBody(ExportInfo.class).size()).isEqualTo(8L << 20);
            String created = ex.getMessage().getHeader(BackupHeaders.CREATED_CHECKPOINT, String.class);
            assertThat(created).startsWith("coldcopy.r1.");
            assertThat(bitmaps(disk)).as("committed: the new checkpoint stays").containsExactly(created);

            // an image outside the allowed roots is refused by the service's policy, before any export
            Path outside = createQcow2(dir.resolve("outside.qcow2"), "1M");
            Exchange refused = main.getCamelContext().createProducerTemplate().request("direct:my-export", e -> {
                e.getMessage().setHeader(BackupHeaders.IMAGE, outside.toString());
                e.getMessage().setHeader(BackupHeaders.REPOSITORY_ID, "r1");
            });
            assertThat(refused.getException()).hasMessageContaining("outside");
            assertThat(bitmaps(outside)).isEmpty();
        } finally {
            main.stop();
        }
        assertThat(serversMentioning(dir.toString())).as("no export left running").isEmpty();
    }
}
