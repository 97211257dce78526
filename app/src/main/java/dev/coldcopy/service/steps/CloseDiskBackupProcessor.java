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
        // A chunk that failed in the streaming split marks the exchange "redelivery exhausted" (so that
        // nothing retries that one chunk); left set, the disk as a whole would not be retried either.
        exchange.getExchangeExtension().setRedeliveryExhausted(false);
        if (backup != null) {
            backup.close();
        }
    }
}
