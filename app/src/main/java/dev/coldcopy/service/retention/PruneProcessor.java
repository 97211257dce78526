package dev.coldcopy.service.retention;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.lifecycle.PruneResult;
import dev.coldcopy.repository.lifecycle.Pruner;
import dev.coldcopy.service.BackupEngineHolder;
import dev.coldcopy.service.Reasons;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One scheduled prune of the service's repository with the configured retention policy. The body becomes
 * the prune's JSON result ({@code "type":"prune"}, outcome ok, skipped or failed with its reason); the
 * exchange properties {@code coldcopyPruneRemoved}, {@code coldcopyPruneFreed} and {@code coldcopyPruneMillis}
 * and the header {@code CamelColdcopyOutcome} feed the metrics. A failed prune never fails the route: the
 * next one runs at the next tick.
 */
public final class PruneProcessor implements Processor {
    private static final Logger LOG = LoggerFactory.getLogger(PruneProcessor.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final BackupEngineHolder engine;
    private final SnapshotGauges gauges;

    public PruneProcessor(BackupEngineHolder engine, SnapshotGauges gauges) {
        this.engine = engine;
        this.gauges = gauges;
    }

    @Override
    public void process(Exchange exchange) throws Exception {
        ObjectNode result = JSON.createObjectNode().put("type", "prune").put("started", Instant.now().toString());
        exchange.setProperty("coldcopyPruneRemoved", 0);
        exchange.setProperty("coldcopyPruneFreed", 0);
        long t0 = System.nanoTime();
        try {
            RetentionSettings settings = RetentionSettings.from(exchange.getContext().getPropertiesComponent().loadProperties());
            if (settings.isEmpty()) {
                result.put("outcome", "skipped").put("reason", "no coldcopy.retention.keep-* rule is configured");
            } else {
                Repository repository = engine.get(exchange.getContext()).repository();
                PruneResult r = new Pruner(repository).prune(new Pruner.Request(Optional.empty(), Optional.empty(), settings.rules(),
                        settings.perVm(), false, Duration.ofMinutes(30)), d -> LOG.info("prune: {}/{}: kept {}, removed {}", d.vm(), d.disk(),
                        d.kept().size(), d.removed().size()));
                LOG.info("prune: removed {} snapshots and {} chunks, freed {} bytes; kept {} snapshots", r.snapshotsRemoved(),
                        r.chunksRemoved(), r.bytesFreed(), r.snapshotsKept());
                gauges.bind(exchange.getContext());
                gauges.refresh(repository);
                result.put("outcome", "ok").put("snapshotsRemoved", r.snapshotsRemoved()).put("snapshotsKept", r.snapshotsKept())
                        .put("chunksRemoved", r.chunksRemoved()).put("bytesFreed", r.bytesFreed())
                        .put("partlyUsedChunks", r.partlyUsedChunks()).put("unusedBytesInUsedChunks", r.unusedBytesInUsedChunks())
                        .put("chunksMissing", r.chunksMissing()).put("vmBackupsRemoved", r.vmBackupsRemoved());
                ArrayNode disks = result.putArray("disks");
                for (PruneResult.DiskOutcome d : r.disks()) {
                    ObjectNode n = disks.addObject().put("vm", d.vm()).put("disk", d.disk()).put("kept", d.kept().size());
                    ArrayNode removed = n.putArray("removed");
                    d.removed().stream().map(SnapshotId::value).forEach(removed::add);
                }
                exchange.setProperty("coldcopyPruneRemoved", r.snapshotsRemoved());
                exchange.setProperty("coldcopyPruneFreed", r.bytesFreed());
            }
        } catch (Exception e) {
            String reason = Reasons.oneLine(e);
            LOG.warn("prune failed: {}", reason);
            result.put("outcome", "failed").put("reason", reason);
        }
        long millis = (System.nanoTime() - t0) / 1_000_000;
        result.put("durationMs", millis);
        exchange.setProperty("coldcopyPruneMillis", millis);
        exchange.getMessage().setHeader(dev.coldcopy.service.ColdcopyHeaders.OUTCOME, result.get("outcome").asText());
        exchange.getMessage().setHeader(Exchange.FILE_NAME, "prune-" + SnapshotId.create(Instant.now()).value() + ".json");
        exchange.getMessage().setBody(JSON.writeValueAsString(result) + "\n");
    }
}
