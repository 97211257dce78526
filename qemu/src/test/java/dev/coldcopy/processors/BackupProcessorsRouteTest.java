package dev.coldcopy.processors;

import static dev.coldcopy.testing.QemuImages.*;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.coldcopy.backup.RunDirectory;
import dev.coldcopy.checkpoint.PreviousBackup;
import dev.coldcopy.qemu.ChainInspector;
import dev.coldcopy.qemu.ExportServer;
import dev.coldcopy.qemu.QemuTools;
import dev.coldcopy.security.ImagePolicy;

/** The processors by bean name in a route, as a YAML route would use them. */
class BackupProcessorsRouteTest extends CamelTestSupport {

    static final String PREV = "coldcopy.r1.20261124T100000000Z";

    @TempDir
    static Path dir;
    static Path images;
    RunDirectory runDir;

    @Override
    protected void bindToRegistry(org.apache.camel.spi.Registry registry) throws Exception {
        images = Files.createDirectories(dir.resolve("images"));
        runDir = RunDirectory.at(dir.resolve("run"));
        QemuTools tools = QemuTools.defaults();
        registry.bind("inspectChain", new InspectChainProcessor(new ChainInspector(tools, new ImagePolicy(List.of(images)))));
        registry.bind("planBackup", new PlanBackupProcessor());
        registry.bind("openExport", new OpenExportProcessor(tools, runDir,
                ExportServer.named("qemu-storage-daemon", tools, runDir.exports()), Duration.ofSeconds(5)));
        registry.bind("commitCheckpoint", new CommitCheckpointProcessor());
    }

    @Override
    protected RouteBuilder createRouteBuilder() {
        return new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:backup")
                        .process("inspectChain").process("planBackup").process("openExport")
                        .process(e -> e.getMessage().setBody(dirtyRanges(e.getMessage().getHeader(BackupHeaders.NBD_URI, String.class),
                                e.getMessage().getHeader(BackupHeaders.DIRTY_BITMAP_CONTEXT, String.class))))
                        .choice().when(header("fail").isEqualTo(true)).throwException(new IllegalStateException("delivery failed")).end()
                        .process("commitCheckpoint");
            }
        };
    }

    @Test
    void incrementalBackupThroughTheRoute() {
        Path disk = createQcow2(images.resolve("vda.qcow2"), "4M");
        addBitmap(disk, PREV);
        writePattern(disk, 7, 1 << 20, 4096);
        Exchange ex = template.request("direct:backup", e -> {
            e.getMessage().setHeader(BackupHeaders.IMAGE, disk.toString());
            e.getMessage().setHeader(BackupHeaders.REPOSITORY_ID, "r1");
            e.getMessage().setHeader(BackupHeaders.PREVIOUS_BACKUP, new PreviousBackup(PREV, 4 << 20));
        });
        assertThat(ex.getException()).isNull();
        assertThat(ex.getMessage().getHeader(BackupHeaders.BACKUP_KIND)).isEqualTo("incremental");
        assertThat(ex.getMessage().getBody(List.class)).hasSize(1);
        String created = ex.getMessage().getHeader(BackupHeaders.CREATED_CHECKPOINT, String.class);
        assertThat(bitmaps(disk)).containsExactly(created); // committed: PREV removed after the export stopped
        assertThat(serversMentioning(runDir.root().toString())).isEmpty();
    }

    @Test
    void failedDeliveryRollsTheCheckpointBack() {
        Path disk = createQcow2(images.resolve("vdb.qcow2"), "4M");
        addBitmap(disk, PREV);
        Exchange ex = template.request("direct:backup", e -> {
            e.getMessage().setHeader(BackupHeaders.IMAGE, disk.toString());
            e.getMessage().setHeader(BackupHeaders.REPOSITORY_ID, "r1");
            e.getMessage().setHeader(BackupHeaders.PREVIOUS_BACKUP, new PreviousBackup(PREV, 4 << 20));
            e.getMessage().setHeader("fail", true);
        });
        assertThat(ex.getException()).hasMessage("delivery failed");
        assertThat(bitmaps(disk)).containsExactly(PREV);
        assertThat(serversMentioning(runDir.root().toString())).isEmpty();
    }
}
