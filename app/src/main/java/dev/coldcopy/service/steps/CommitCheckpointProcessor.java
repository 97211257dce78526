package dev.coldcopy.service.steps;

import dev.coldcopy.service.BackupResult;
import dev.coldcopy.service.ColdcopyHeaders;
import java.io.IOException;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * Step {@code commitCheckpoint}, after {@code commitSnapshot}: the new checkpoint becomes the base of the next
 * incremental; when the backup closes, this repository's older checkpoints on the image are removed (those
 * another disk name or a delta still builds on stay). The body becomes the disk's {@link BackupResult}
 * (also in property {@value ColdcopyHeaders#RESULT}).
 */
public final class CommitCheckpointProcessor implements Processor {

    @Override
    public void process(Exchange exchange) throws IOException {
        DiskBackup backup = DiskBackup.of(exchange);
        backup.commitCheckpoint();
        BackupResult result = BackupResult.success(backup.job(), backup.snapshot().orElseThrow().toString(),
                backup.plan().kind().label(), backup.plan().reason(), backup.bytesRead(),
                backup.statistics().bytesStored(), backup.elapsed(), backup.session().createdCheckpoint());
        exchange.setProperty(ColdcopyHeaders.RESULT, result);
        exchange.getMessage().setBody(result);
    }
}
