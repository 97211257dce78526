package dev.coldcopy.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;

/**
 * The webhook's answer: 202 {@code {"id":..,"status":"queued"}} for an accepted event, 400
 * {@code {"status":"rejected","reason":..}} for a bad one. Internal headers never leak into the response.
 */
public final class HttpEventResponse implements Processor {
    private final ObjectMapper mapper = new ObjectMapper();

    @Override
    public void process(Exchange exchange) throws Exception {
        Message in = exchange.getMessage();
        int status = in.getHeader(Exchange.HTTP_RESPONSE_CODE, 500, Integer.class);
        ObjectNode body = mapper.createObjectNode();
        if (status == 202) {
            body.put("id", in.getHeader(ColdcopyHeaders.EVENT_ID, String.class));
            body.put("status", "queued");
        } else {
            body.put("status", status == 400 ? "rejected" : "unavailable");
            body.put("reason", in.getHeader(ColdcopyHeaders.REASON, "invalid event", String.class));
        }
        in.getHeaders().clear();
        in.setHeader(Exchange.HTTP_RESPONSE_CODE, status);
        in.setHeader(Exchange.CONTENT_TYPE, "application/json");
        in.setBody(mapper.writeValueAsString(body));
    }
}
