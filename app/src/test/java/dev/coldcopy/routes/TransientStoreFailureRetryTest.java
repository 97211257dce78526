package dev.coldcopy.routes;

import static dev.coldcopy.testing.QemuImages.bitmaps;
import static dev.coldcopy.testing.QemuImages.createQcow2;
import static dev.coldcopy.testing.QemuImages.serversMentioning;
import static dev.coldcopy.testing.QemuImages.writePattern;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.event.BackupEvent;
import dev.coldcopy.event.DiskSpec;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.service.BackupResult;
import dev.coldcopy.service.ColdcopyHeaders;
import dev.coldcopy.service.ColdcopyMain;
import dev.coldcopy.service.ServiceHarness;
import dev.coldcopy.service.steps.StoreChunkProcessor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.Main;
import org.apache.camel.main.MainListenerSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A chunk that fails to store in the middle of the shipped route's streaming split is a transient failure
 * (errors.yaml): the disk's backup is tried again as a whole, from lockDisk on, and the retry's snapshot
 * restores byte for byte. The first try leaves no manifest and no checkpoint behind.
 */
class TransientStoreFailureRetryTest {

    @TempDir
    Path dir;

    @Test
    void aChunkThatFailsOnceIsRetriedWithTheWholeDisk() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Path disk = createQcow2(images.resolve("vda.qcow2"), "32M");
        for (int i = 0; i < 8; i++) {
            writePattern(disk, 0x10 + i, i * (4L << 20), 1 << 20); // several chunks: the third one fails
        }
        Path home = dir.resolve("home");
        Main main = new ColdcopyMain(Optional.empty(), List.of(), Map.of(
                "coldcopy.home", home.toString(),
                "coldcopy.allowed-roots", images.toString(),
                "coldcopy.retry.max", "2",
                "coldcopy.retry.delay-ms", "100",
                "camel.server.port", Integer.toString(dev.coldcopy.testing.Tools.freePort()))).build();
        AtomicInteger chunks = new AtomicInteger();
        Processor store = new StoreChunkProcessor();
        Processor hiccupOnce = exchange -> {
            if (chunks.incrementAndGet() == 3) {
                throw new IOException("the store hiccupped");
            }
            store.process(exchange);
        };
        main.addMainListener(new MainListenerSupport() {
            @Override
            public void afterConfigure(BaseMainSupport configured) {
                // the shipped route, unchanged, with a store step that fails once
                configured.getCamelContext().getRegistry().unbind("storeChunk");
                configured.getCamelContext().getRegistry().bind("storeChunk", Processor.class, hiccupOnce);
            }
        });
        main.start();
        BackupResult result;
        try {
            BackupEvent event = new BackupEvent("retry-1", "web", List.of(new DiskSpec("vda", disk)), Optional.empty());
            Exchange done = main.getCamelContext().createProducerTemplate().send("direct:backup-vm", exchange -> {
                exchange.getMessage().setBody(event);
                exchange.getMessage().setHeader(ColdcopyHeaders.EVENT_ID, event.id());
            });
            assertThat(done.getException()).isNull();
            @SuppressWarnings("unchecked")
            List<BackupResult> results = done.getProperty(ColdcopyHeaders.RESULTS, List.class);
            assertThat(results).hasSize(1);
            result = results.get(0);
        } finally {
            main.stop();
        }
        assertThat(result.outcome()).isEqualTo("ok");
        assertThat(chunks.get()).as("the second try stored every chunk again").isGreaterThan(3);
        assertThat(bitmaps(disk)).as("the retry's checkpoint only").containsExactly(result.checkpoint());
        Path expected = ServiceHarness.snapshotOfDisk(disk, dir.resolve("expected.raw"));
        try (Repository repository = Repository.open(RepositoryUri.parse(home.resolve("repository").toUri().toString()),
                RepositoryOptions.builder().build())) {
            assertThat(repository.list(Optional.of("web"))).as("the failed try wrote no manifest").hasSize(1);
            ServiceHarness.assertRestoresTo(repository, repository.load(SnapshotId.parse(result.snapshot())), expected,
                    dir.resolve("restored.qcow2"));
        }
        assertThat(serversMentioning(dir.toString())).as("no export left running").isEmpty();
    }
}
