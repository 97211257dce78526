package dev.coldcopy.service;

import dev.coldcopy.event.OversizedEventException;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * Refuses an event larger than {@code coldcopy.events.max-bytes} before anything reads it: a stray
 * 120 MB file in the spool must cost a dead letter, not the heap (and with it the spool poller). Uses
 * the file's length ({@code CamelFileLength}) when the event is a spool file, else the body's.
 */
public final class EventSizeCheck implements Processor {
    static final String LIMIT = "{{coldcopy.events.max-bytes}}";

    @Override
    public void process(Exchange exchange) throws Exception {
        long limit = Long.parseLong(exchange.getContext().resolvePropertyPlaceholders(LIMIT).strip());
        Long fileLength = exchange.getMessage().getHeader(Exchange.FILE_LENGTH, Long.class);
        long size;
        String what;
        if (fileLength != null) {
            size = fileLength;
            what = "spool file " + exchange.getMessage().getHeader(Exchange.FILE_NAME_ONLY, String.class);
        } else {
            byte[] body = exchange.getMessage().getBody(byte[].class);
            size = body == null ? 0 : body.length;
            what = "event";
        }
        if (size > limit) {
            throw new OversizedEventException(what + " is " + size + " bytes, more than coldcopy.events.max-bytes ("
                    + limit + "): not read");
        }
    }
}
