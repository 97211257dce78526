package dev.coldcopy.service.steps;

import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.service.ColdcopyHeaders;
import dev.coldcopy.service.plan.BackupPlan;
import dev.coldcopy.service.plan.BackupPlanner;
import dev.coldcopy.service.plan.PreviousBackup;
import java.io.IOException;
import java.time.Clock;
import java.util.Optional;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Step {@code planBackup}: full, incremental or delta, from the chain just inspected and the checkpoint the
 * repository's latest snapshot of this disk created (never an incremental from an invalid bitmap; a full says
 * why). That snapshot is the one {@code findEventSnapshot} read under the disk's lease, when the route has that
 * step; else it is read here. Out: headers {@value ColdcopyHeaders#BACKUP_KIND} and
 * {@value ColdcopyHeaders#BACKUP_REASON}.
 */
public final class PlanBackupProcessor implements Processor {
    private static final Logger LOG = LoggerFactory.getLogger(PlanBackupProcessor.class);

    private final Clock clock;

    public PlanBackupProcessor(Clock clock) {
        this.clock = clock;
    }

    @Override
    public void process(Exchange exchange) throws IOException {
        DiskBackup backup = DiskBackup.of(exchange);
        Repository repository = backup.engine().repository();
        Repository.LatestSnapshots latest = backup.latest().orElse(null);
        if (latest == null) {
            latest = repository.latestSnapshots(backup.job().event().vm(), backup.job().disk().target());
        }
        Optional<SnapshotManifest> parent = latest.base();
        Optional<PreviousBackup> previous = parent.flatMap(m -> Optional.ofNullable(m.header().checkpointCreated())
                .map(checkpoint -> new PreviousBackup(checkpoint, m.virtualSize())));
        BackupPlan plan = BackupPlanner.plan(backup.chain(), repository.id(), backup.job().event().checkpoint(),
                previous, clock);
        LOG.info("{}: plan {} ({})", backup.label(), plan.kind().label(), plan.reason());
        backup.planned(repository, plan, parent);
        exchange.getMessage().setHeader(ColdcopyHeaders.BACKUP_KIND, plan.kind().label());
        exchange.getMessage().setHeader(ColdcopyHeaders.BACKUP_REASON, plan.reason());
    }
}
