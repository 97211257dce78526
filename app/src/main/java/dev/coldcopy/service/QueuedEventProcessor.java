package dev.coldcopy.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * The webhook's event as it goes into the spool: the raw event, with the id it was accepted under
 * added when the sender gave none. Without it the spool route would give the event a second, different
 * id, so the id in the 202 answer would match no result. Expects the validated event's id in
 * {@link ColdcopyHeaders#EVENT_ID} and the raw bytes in exchange property {@value #RAW_EVENT}.
 */
public final class QueuedEventProcessor implements Processor {
    /** Exchange property with the event exactly as received. */
    public static final String RAW_EVENT = "rawEvent";
    private final ObjectMapper mapper = new ObjectMapper();

    @Override
    public void process(Exchange exchange) throws Exception {
        byte[] raw = exchange.getProperty(RAW_EVENT, byte[].class);
        String id = exchange.getMessage().getHeader(ColdcopyHeaders.EVENT_ID, String.class);
        ObjectNode event = (ObjectNode) mapper.readTree(raw); // an object: the event was validated
        if (event.hasNonNull("id")) {
            exchange.getMessage().setBody(raw); // as sent, byte for byte
            return;
        }
        event.remove("id"); // "id": null
        ObjectNode withId = mapper.createObjectNode().put("id", id);
        withId.setAll(event);
        exchange.getMessage().setBody(mapper.writeValueAsBytes(withId));
    }
}
