package dev.coldcopy.service.steps;

import dev.coldcopy.service.ColdcopyHeaders;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * Step {@code closeDiskBackup}, in the route's {@code doFinally}: the export stops, and what was not committed
 * is undone — the unfinished snapshot dropped, the new checkpoint removed — then the disk's lock is released.
 */
public final class CloseDiskBackupProcessor implements Processor {

    @Override
    public void process(Exchange exchange) {
        DiskBackup backup = exchange.getProperty(ColdcopyHeaders.DISK_BACKUP, DiskBackup.class);
        exchange.removeProperty(ColdcopyHeaders.DISK_BACKUP);
        // Camel's splitter marks the exchange "redelivery exhausted" when a chunk fails with stopOnException (so
        // that nothing retries that one chunk); left set, errors.yaml could not retry the disk as a whole either
        // (TransientStoreFailureRetryTest).
        exchange.getExchangeExtension().setRedeliveryExhausted(false);
        if (backup != null) {
            backup.close();
        }
    }
}
