package dev.coldcopy.nbd.camel;

import dev.coldcopy.nbd.protocol.NbdUri;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.support.ScheduledPollConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the export once per poll and emits one exchange per chunk, in offset order, synchronously: the
 * next chunk is handed on only when the route has finished with the previous one, while up to readAhead
 * chunks are read in the background. So memory stays bounded however large the export, and a slow
 * destination slows the reading instead of filling the heap.
 *
 * <p>A pass ends with the exchange whose CamelNbdLastChunk header is true (a pass with nothing to read
 * emits a single NONE chunk). A failed exchange ends the pass: the remaining chunks are not emitted,
 * because a backup with a hole in it is worthless.
 */
public class NbdConsumer extends ScheduledPollConsumer {

    private static final Logger LOG = LoggerFactory.getLogger(NbdConsumer.class);

    private final NbdEndpoint endpoint;

    public NbdConsumer(NbdEndpoint endpoint, Processor processor) {
        super(endpoint, processor);
        this.endpoint = endpoint;
    }

    @Override
    protected int poll() throws Exception {
        try {
            return pass();
        } catch (Exception e) {
            if (willPollAgain()) {
                throw e; // Camel reports it ("will try again at next poll"), which is then true
            }
            // the last poll: Camel's own report would promise a retry that never comes
            getExceptionHandler().handleException("NBD pass over " + endpoint.exportUri() + " failed: " + e.getMessage()
                    + " (not tried again: repeatCount=" + getRepeatCount() + ")", e);
            return 0;
        }
    }

    /** getCounter() counts the polls so far, this one included; repeatCount 0 means poll forever. */
    private boolean willPollAgain() {
        return getRepeatCount() <= 0 || getCounter() < getRepeatCount();
    }

    private int pass() throws Exception {
        NbdConfiguration config = endpoint.getConfiguration();
        NbdUri uri = endpoint.exportUri();
        long started = System.nanoTime();
        int emitted = 0;
        try (NbdChunkIterator chunks = NbdConnector.openChunks(uri, config, config.getMetaContext(), true)) {
            while (chunks.hasNext()) {
                if (!isRunAllowed()) {
                    LOG.info("NBD pass over {} stopped after {} chunks: consumer stopping", uri, emitted);
                    break;
                }
                NbdChunk chunk = chunks.next();
                Exchange exchange = createExchange(false);
                NbdChunkMessages.fill(exchange.getIn(), chunk);
                if (chunk.last()) {
                    exchange.getIn().setHeader(NbdConstants.CHUNK_COUNT, chunks.chunkCount());
                }
                emitted++;
                try {
                    getProcessor().process(exchange);
                } catch (Exception e) {
                    exchange.setException(e);
                }
                Exception failure = exchange.getException();
                if (failure != null) {
                    getExceptionHandler().handleException("Error processing NBD chunk " + chunk
                            + "; the pass stops here", exchange, failure);
                }
                releaseExchange(exchange, false);
                if (failure != null) {
                    return emitted;
                }
            }
            LOG.info("NBD pass over {} done: {} chunks, {} data bytes, {} zero bytes, {} ms", uri,
                    chunks.chunkCount(), chunks.dataBytes(), chunks.zeroBytes(), (System.nanoTime() - started) / 1_000_000);
        }
        return emitted;
    }
}
