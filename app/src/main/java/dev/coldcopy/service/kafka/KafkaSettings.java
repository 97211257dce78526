package dev.coldcopy.service.kafka;

import java.util.Optional;
import org.apache.camel.CamelContext;

/**
 * The few {@code coldcopy.kafka.*} settings Java reads (the routes in {@code routes/kafka.yaml} read the
 * rest as placeholders): whether Kafka is on at all, and this node's name.
 */
public final class KafkaSettings {
    /** True in the kafka profile: routes/kafka.yaml is loaded, the event ids and metrics go fleet-wide. */
    public static final String ENABLED = "coldcopy.kafka.enabled";
    public static final String NODE = "coldcopy.kafka.node";
    public static final String BOOTSTRAP_SERVERS = "coldcopy.kafka.bootstrap-servers";
    public static final String EVENTS_TOPIC = "coldcopy.kafka.events-topic";
    public static final String RESULTS_TOPIC = "coldcopy.kafka.results-topic";
    public static final String EVENT_IDS_TOPIC = "coldcopy.kafka.event-ids-topic";
    public static final String GROUP_ID = "coldcopy.kafka.group-id";
    public static final String FORWARD_SPOOL = "coldcopy.kafka.forward-spool";
    public static final String CONSUME = "coldcopy.kafka.consume";

    private KafkaSettings() {}

    public static boolean enabled(CamelContext camel) {
        return value(camel, ENABLED).map(v -> v.strip().equalsIgnoreCase("true")).orElse(false);
    }

    /** {@value #NODE}, else the host's name: what results, forwarded events and metrics call this node. */
    public static String node(CamelContext camel) {
        return value(camel, NODE).map(String::strip).filter(v -> !v.isEmpty()).orElseGet(NodeName::host);
    }

    /** The setting's value, empty when it is not set. */
    public static Optional<String> value(CamelContext camel, String key) {
        return camel.getPropertiesComponent().resolveProperty(key);
    }

    /** The setting's value; one line naming the key when it is missing or blank. */
    public static String required(CamelContext camel, String key) {
        return value(camel, key).map(String::strip).filter(v -> !v.isEmpty())
                .orElseThrow(() -> new IllegalArgumentException(key + " is not set (the kafka profile needs it)"));
    }
}
