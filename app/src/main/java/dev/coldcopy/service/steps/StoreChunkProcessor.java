package dev.coldcopy.service.steps;

import dev.coldcopy.nbd.camel.NbdChunk;
import dev.coldcopy.nbd.camel.NbdChunkKind;
import java.io.IOException;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * Step {@code storeChunk}: one chunk from the {@code nbd:} component into the snapshot being written (data is
 * hashed, compressed and uploaded only if the repository lacks it; a zero range is only recorded).
 */
public final class StoreChunkProcessor implements Processor {

    @Override
    public void process(Exchange exchange) throws Exception {
        NbdChunk chunk = exchange.getMessage().getMandatoryBody(NbdChunk.class);
        DiskBackup backup = DiskBackup.of(exchange);
        if (chunk.kind() == NbdChunkKind.ZERO) {
            backup.putZero(chunk.offset(), chunk.length());
        } else if (chunk.kind() == NbdChunkKind.DATA) {
            backup.putData(chunk.offset(), chunk.data(), chunk.length());
        }
    }
}
