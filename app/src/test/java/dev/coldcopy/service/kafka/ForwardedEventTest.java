package dev.coldcopy.service.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coldcopy.service.ColdcopyHeaders;
import dev.coldcopy.service.QueuedEventProcessor;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What a forwarding node sends to the events topic: the event as written, "id" and "host" added only when absent. */
class ForwardedEventTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private DefaultCamelContext camel;

    @BeforeEach
    void camel() {
        camel = new DefaultCamelContext();
        Properties settings = new Properties();
        settings.setProperty(KafkaSettings.NODE, "hv7");
        camel.getPropertiesComponent().setInitialProperties(settings);
        camel.start();
    }

    @AfterEach
    void stop() {
        camel.stop();
    }

    private byte[] forward(String event, String acceptedId) throws Exception {
        Exchange exchange = new DefaultExchange(camel);
        exchange.setProperty(QueuedEventProcessor.RAW_EVENT, event.getBytes(StandardCharsets.UTF_8));
        exchange.getMessage().setHeader(ColdcopyHeaders.EVENT_ID, acceptedId);
        new ForwardedEvent().process(exchange);
        return exchange.getMessage().getBody(byte[].class);
    }

    @Test
    void anEventWithIdAndHostGoesOnByteForByte() throws Exception {
        String event = "{ \"host\":\"hv1\", \"id\":\"evt-1\",\"event\":\"stopped\",\"vm\":\"web\",\"disks\":[] }";
        assertThat(new String(forward(event, "evt-1"), StandardCharsets.UTF_8)).isEqualTo(event);
    }

    @Test
    void anEventWithoutGetsTheIdItWasAcceptedUnderAndThisNode() throws Exception {
        JsonNode sent = JSON.readTree(forward("{\"id\":null,\"event\":\"stopped\",\"vm\":\"web\",\"extra\":{\"a\":1}}", "8d1c-given"));
        assertThat(sent.get("id").asText()).isEqualTo("8d1c-given");
        assertThat(sent.get("host").asText()).isEqualTo("hv7");
        assertThat(sent.get("vm").asText()).isEqualTo("web");
        assertThat(sent.get("extra").get("a").asInt()).isEqualTo(1);
        assertThat(sent.fieldNames()).toIterable().first().isEqualTo("id");
    }

    @Test
    void theSendersHostIsKept() throws Exception {
        JsonNode sent = JSON.readTree(forward("{\"event\":\"stopped\",\"vm\":\"web\",\"host\":\"hv2\"}", "evt-9"));
        assertThat(sent.get("host").asText()).isEqualTo("hv2");
        assertThat(sent.get("id").asText()).isEqualTo("evt-9");
    }
}
