package dev.coldcopy.service.steps;

import dev.coldcopy.repository.BackupStatistics;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.service.ColdcopyHeaders;
import java.io.IOException;
import java.time.Duration;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Step {@code commitSnapshot}: writes the manifest, last — from here on the snapshot exists and restores on
 * its own. Out: header {@value ColdcopyHeaders#SNAPSHOT_ID}.
 */
public final class CommitSnapshotProcessor implements Processor {
    private static final Logger LOG = LoggerFactory.getLogger(CommitSnapshotProcessor.class);

    @Override
    public void process(Exchange exchange) throws IOException {
        DiskBackup backup = DiskBackup.of(exchange);
        Duration readTime = backup.readTime();
        long read = backup.bytesRead();
        SnapshotId id = backup.commitSnapshot(BackupStatistics.read(read, readTime));
        exchange.getMessage().setHeader(ColdcopyHeaders.SNAPSHOT_ID, id.toString());
        long millis = Math.max(1, readTime.toMillis());
        LOG.info("{}: committed {} snapshot {}: read {} in {} ms ({} MiB/s), stored {}", backup.label(),
                backup.plan().kind().label(), id, bytes(read), readTime.toMillis(),
                String.format("%.1f", read / 1048576.0 * 1000.0 / millis), bytes(backup.statistics().bytesStored()));
    }

    /** Exact below a MiB (an incremental of a few blocks must not read "0 MiB"), MiB above. */
    private static String bytes(long n) {
        return n < (1 << 20) ? n + " bytes" : String.format("%.1f MiB", n / 1048576.0);
    }
}
