package dev.coldcopy.processors;

import org.apache.camel.Exchange;
import org.apache.camel.Processor;

import dev.coldcopy.backup.DiskBackupSession;

/**
 * Call after the snapshot manifest is written: marks the session's new checkpoint as the base; the older
 * checkpoints of the repository are removed when the exchange completes (after the export stopped).
 */
public final class CommitCheckpointProcessor implements Processor {

    @Override
    public void process(Exchange exchange) {
        DiskBackupSession session = exchange.getProperty(BackupHeaders.SESSION_PROPERTY, DiskBackupSession.class);
        if (session == null) {
            throw new IllegalStateException("no backup session on this exchange (property "
                    + BackupHeaders.SESSION_PROPERTY + "): run the open-export step first");
        }
        session.commit();
    }
}
