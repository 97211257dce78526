package dev.coldcopy.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.UUID;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.component.kafka.KafkaConstants;

/**
 * Builds the dead-letter entry for an event that cannot be processed: one JSON document with the
 * one-line reason, where the event came from, and the event itself (as text when it is text), named
 * so that entries sort by time. Expects the original event as the body.
 */
public final class DeadLetterProcessor implements Processor {
    static final int MAX_EVENT_CHARS = 64 * 1024;
    /** Spool files larger than this are not read into the dead letter (events are at most 1 MiB). */
    static final long MAX_READ_BYTES = dev.coldcopy.event.EventParser.MAX_EVENT_BYTES;
    private static final DateTimeFormatter STAMP =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    private final ObjectMapper mapper = new ObjectMapper();

    @Override
    public void process(Exchange exchange) throws Exception {
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        String reason = cause != null ? Reasons.oneLine(cause)
                : exchange.getMessage().getHeader(ColdcopyHeaders.REASON, "unknown failure", String.class);
        Instant now = Instant.now();
        ObjectNode entry = mapper.createObjectNode();
        entry.put("reason", reason);
        entry.put("failedAt", now.toString());
        String event = event(exchange);
        String eventId = exchange.getMessage().getHeader(ColdcopyHeaders.EVENT_ID, String.class);
        if (eventId == null) {
            // the original message (as it came from the spool) has no headers of ours: the id coldcopy gave the
            // event, else the one in the event
            eventId = exchange.getProperty(ColdcopyHeaders.EVENT_ID_PROPERTY, String.class);
        }
        if (eventId == null) {
            eventId = idIn(event);
        }
        if (eventId != null) {
            entry.put("eventId", eventId);
            exchange.getMessage().setHeader(ColdcopyHeaders.EVENT_ID, eventId);
        }
        entry.put("source", source(exchange));
        entry.put("event", event);
        exchange.getMessage().setHeader(ColdcopyHeaders.REASON, reason);
        exchange.getMessage().setHeader(Exchange.FILE_NAME,
                STAMP.format(now) + "-" + UUID.randomUUID().toString().substring(0, 8) + ".json");
        exchange.getMessage().setBody(mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(entry));
    }

    /** Where the event came from: {@code spool:FILE}, {@code kafka:TOPIC/PARTITION@OFFSET}, else the route. */
    private static String source(Exchange exchange) {
        String file = exchange.getMessage().getHeader(Exchange.FILE_NAME_ONLY, String.class);
        if (file != null) {
            return "spool:" + file;
        }
        String topic = exchange.getMessage().getHeader(KafkaConstants.TOPIC, String.class);
        if (topic != null) {
            return "kafka:" + topic + "/" + exchange.getMessage().getHeader(KafkaConstants.PARTITION)
                    + "@" + exchange.getMessage().getHeader(KafkaConstants.OFFSET);
        }
        return exchange.getFromRouteId();
    }

    /**
     * The event as text, unless reading it is what went wrong: a spool file too large to hold (only its
     * size is recorded) or one that cannot be read at all.
     */
    private static String event(Exchange exchange) {
        Long fileLength = exchange.getMessage().getHeader(Exchange.FILE_LENGTH, Long.class);
        if (fileLength != null && fileLength > MAX_READ_BYTES) {
            return "(" + fileLength + " bytes, not read)";
        }
        try {
            byte[] raw = exchange.getMessage().getBody(byte[].class);
            return raw == null ? "(no body)" : text(raw);
        } catch (RuntimeException e) {
            return "(could not be read: " + Reasons.oneLine(e) + ")";
        }
    }

    private String idIn(String event) {
        try {
            com.fasterxml.jackson.databind.JsonNode id = mapper.readTree(event).path("id");
            return id.isTextual() ? id.asText() : null;
        } catch (java.io.IOException | RuntimeException e) {
            return null; // not JSON: no id to speak of
        }
    }

    private static String text(byte[] raw) {
        try {
            String s = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(raw)).toString();
            return s.length() > MAX_EVENT_CHARS ? s.substring(0, MAX_EVENT_CHARS) + "...(truncated)" : s;
        } catch (CharacterCodingException e) {
            return "(" + raw.length + " bytes, not UTF-8 text)";
        }
    }
}
