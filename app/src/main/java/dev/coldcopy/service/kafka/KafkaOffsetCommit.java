package dev.coldcopy.service.kafka;

import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.component.kafka.consumer.KafkaManualCommit;

/**
 * Commits the offset of the Kafka record the exchange came from (bean {@code commitKafkaOffset}): the
 * last step of an event from Kafka, after its result or its dead letter is written. Until then the
 * record is the group's to deliver again (to this node after a restart, or to another).
 */
public final class KafkaOffsetCommit implements Processor {
    /**
     * Where the route keeps the record's commit handle: exchange properties outlive the message, which the
     * backup replaces (the split of the disks) and the error handler restores.
     */
    public static final String PROPERTY = "coldcopyKafkaCommit";

    @Override
    public void process(Exchange exchange) {
        KafkaManualCommit commit = exchange.getProperty(PROPERTY, KafkaManualCommit.class);
        if (commit == null) {
            commit = exchange.getMessage().getHeader(KafkaConstants.MANUAL_COMMIT, KafkaManualCommit.class);
        }
        if (commit == null) {
            throw new IllegalStateException("no Kafka record to commit: commitKafkaOffset belongs in a route from a kafka: endpoint"
                    + " with allowManualCommit=true");
        }
        commit.commit();
    }
}
