package dev.coldcopy.service;

import dev.coldcopy.event.BackupEvent;
import dev.coldcopy.event.EventParser;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * Turns the raw event (bytes from a spool file or an HTTP request) into a validated {@link BackupEvent}
 * body. Throws {@link dev.coldcopy.event.BadEventException} for anything malformed, which the routes
 * dead-letter without retrying.
 */
public final class EventIntakeProcessor implements Processor {
    private final EventParser parser = new EventParser();

    @Override
    public void process(Exchange exchange) {
        byte[] raw = exchange.getMessage().getBody(byte[].class);
        BackupEvent event = parser.parse(raw);
        exchange.getMessage().setHeader(ColdcopyHeaders.EVENT_ID, event.id());
        exchange.setProperty(ColdcopyHeaders.EVENT_ID_PROPERTY, event.id());
        exchange.getMessage().setHeader(ColdcopyHeaders.VM, event.vm());
        exchange.getMessage().setBody(event);
    }
}
