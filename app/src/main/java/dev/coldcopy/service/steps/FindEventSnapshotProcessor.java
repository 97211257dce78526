package dev.coldcopy.service.steps;

import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.service.BackupResult;
import dev.coldcopy.service.ColdcopyHeaders;
import java.io.IOException;
import java.util.Optional;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Step {@code findEventSnapshot}, right after {@code lockDisk} (so under the disk's lease): an event delivered
 * again (at-least-once delivery after the node that had it died, maybe once it had committed this disk) finds
 * the snapshot it already made, and that is the disk's result: outcome ok, that snapshot's id, kind and
 * checkpoint, the reason "already backed up by this event: ID". Nothing is exported or committed then and the
 * image's checkpoints stay as they are; the shipped route skips the remaining steps while property
 * {@value ColdcopyHeaders#RESULT} is set. Only the disk's newest snapshot is looked at (a later event's snapshot
 * means this event is old news, and it is backed up like a new one).
 * <p>
 * The manifest read here is the one {@code planBackup} needs too: it is kept for it, so a disk's backup still
 * reads one manifest. Out, for a repeated event only: property and body {@value ColdcopyHeaders#RESULT}, headers
 * {@value ColdcopyHeaders#SNAPSHOT_ID}, {@value ColdcopyHeaders#BACKUP_KIND}, {@value ColdcopyHeaders#BACKUP_REASON}.
 */
public final class FindEventSnapshotProcessor implements Processor {
    private static final Logger LOG = LoggerFactory.getLogger(FindEventSnapshotProcessor.class);
    /** how a result says the snapshot is an earlier delivery's */
    public static final String ALREADY = "already backed up by this event: ";

    @Override
    public void process(Exchange exchange) throws IOException {
        DiskBackup backup = DiskBackup.of(exchange);
        Repository repository = backup.engine().repository();
        Repository.LatestSnapshots latest = repository.latestSnapshots(backup.job().event().vm(), backup.job().disk().target());
        backup.found(latest);
        Optional<SnapshotManifest> made = latest.madeBy(backup.job().event().id());
        if (made.isEmpty()) {
            return;
        }
        SnapshotManifest snapshot = made.get();
        String reason = ALREADY + snapshot.id();
        LOG.info("{}: event {} delivered again, its snapshot {} is committed: nothing exported or committed", backup.label(),
                backup.job().event().id(), snapshot.id());
        BackupResult result = BackupResult.success(backup.job(), snapshot.id().toString(), snapshot.kind().label(), reason,
                0, 0, backup.elapsed(), Optional.ofNullable(snapshot.header().checkpointCreated()));
        exchange.setProperty(ColdcopyHeaders.RESULT, result);
        Message message = exchange.getMessage();
        message.setBody(result);
        message.setHeader(ColdcopyHeaders.SNAPSHOT_ID, snapshot.id().toString());
        message.setHeader(ColdcopyHeaders.BACKUP_KIND, snapshot.kind().label());
        message.setHeader(ColdcopyHeaders.BACKUP_REASON, reason);
    }
}
