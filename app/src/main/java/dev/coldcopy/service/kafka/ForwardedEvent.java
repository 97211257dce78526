package dev.coldcopy.service.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coldcopy.service.ColdcopyHeaders;
import dev.coldcopy.service.QueuedEventProcessor;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * A validated spool event as it goes to the events topic (bean {@code forwardedEvent}): the event as
 * received, with {@code "host"} (this node, where the VM stopped) and {@code "id"} (the one the event was
 * accepted under) added when it has none. With the id, a record that Kafka delivers twice is recognised
 * as one event wherever it lands. An event that has both goes on byte for byte. Expects the raw event
 * in exchange property {@value QueuedEventProcessor#RAW_EVENT} and its id in {@link ColdcopyHeaders#EVENT_ID}.
 */
public final class ForwardedEvent implements Processor {
    static final String HOST = "host";
    static final String ID = "id";
    private final ObjectMapper json = new ObjectMapper();

    @Override
    public void process(Exchange exchange) throws Exception {
        byte[] raw = exchange.getProperty(QueuedEventProcessor.RAW_EVENT, byte[].class);
        if (raw == null) {
            throw new IllegalStateException("no raw event to forward (exchange property " + QueuedEventProcessor.RAW_EVENT + ")");
        }
        ObjectNode event = (ObjectNode) json.readTree(raw); // an object: the event was validated
        boolean hasId = hasText(event.get(ID));
        boolean hasHost = hasText(event.get(HOST));
        if (hasId && hasHost) {
            exchange.getMessage().setBody(raw);
            return;
        }
        ObjectNode forwarded = json.createObjectNode();
        if (!hasId) {
            event.remove(ID); // "id": null
            forwarded.put(ID, exchange.getMessage().getHeader(ColdcopyHeaders.EVENT_ID, String.class));
        }
        forwarded.setAll(event);
        if (!hasHost) {
            forwarded.put(HOST, KafkaSettings.node(exchange.getContext()));
        }
        exchange.getMessage().setBody(json.writeValueAsBytes(forwarded));
    }

    private static boolean hasText(JsonNode node) {
        return node != null && node.isTextual() && !node.asText().isBlank();
    }
}
