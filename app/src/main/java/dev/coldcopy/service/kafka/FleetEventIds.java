package dev.coldcopy.service.kafka;

import java.util.ConcurrentModificationException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.component.kafka.KafkaComponent;
import org.apache.camel.processor.idempotent.kafka.KafkaIdempotentRepository;
import org.apache.camel.spi.IdempotentRepository;
import org.apache.camel.support.service.ServiceHelper;
import org.apache.camel.support.service.ServiceSupport;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * The event-id filter of a fleet (bean {@code eventIds} with the kafka profile): the ids of the events
 * any node backed up, shared over {@value KafkaSettings#EVENT_IDS_TOPIC} by Camel's
 * {@link KafkaIdempotentRepository}, so an event delivered again (to this node or another) is skipped.
 * <p>
 * Only a finished event's id is published ({@link #confirm}); an event being backed up is held in this
 * node alone ({@link #add}). Used as it is, the Kafka repository publishes the id when the backup starts
 * and un-publishes it on failure ({@code removeOnFailure}): a node killed mid-backup never un-publishes
 * it, and its event, handed to another node by Kafka, would be skipped there as a repeat and never backed
 * up. Here a dead node leaves nothing in the topic.
 */
public final class FleetEventIds extends ServiceSupport implements IdempotentRepository, CamelContextAware {
    /** Ids remembered per node: a fleet of 1,000 hosts x 20 VMs makes 20,000 a night; redeliveries come within hours. */
    static final int MAX_IDS = 100_000;
    /** How often the repository reads the ids other nodes published. */
    private static final int POLL_MS = 100;
    /** Ids older than this cannot matter (a redelivery comes within hours): the topic does not grow for ever. */
    private static final long RETENTION_MS = TimeUnit.DAYS.toMillis(7);
    private static final int CLIENT_TIMEOUT_MS = 30_000;
    /** The client settings passed on from the kafka component (camel.component.kafka.*): TLS and SASL. */
    private static final List<String> SECURITY_PREFIXES = List.of("security.", "ssl.", "sasl.");

    private final String topic;
    private final Properties client;
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
    private final Object syncLock = new Object();
    /** Read from the topic on first use, not at start: a node that only forwards, or {@code run --check}, never connects. */
    private volatile KafkaIdempotentRepository shared;
    private CamelContext camel;

    private FleetEventIds(String topic, Properties client) {
        this.topic = topic;
        this.client = client;
    }

    /**
     * Camel 4.18's repository closes its consumer while its background reader may still be inside a poll
     * (it stops the reader without waiting): the close fails (the consumer is single-threaded), the
     * producer is then never closed, and every stop logs a stack trace. The reader leaves its loop within
     * one poll; after that the same stop goes through.
     */
    private static final class StoppableRepository extends KafkaIdempotentRepository {
        private static final int STOP_ATTEMPTS = 20;

        StoppableRepository(String topic, Properties consumer, Properties producer) {
            super(topic, consumer, producer, MAX_IDS, POLL_MS);
        }

        @Override
        protected void doStop() throws Exception {
            for (int attempt = 1;; attempt++) {
                try {
                    super.doStop();
                    return;
                } catch (ConcurrentModificationException e) {
                    if (attempt == STOP_ATTEMPTS) {
                        throw e;
                    }
                    Thread.sleep(POLL_MS);
                }
            }
        }
    }

    /** The repository for this service's configuration: its topic, brokers and security settings. */
    public static FleetEventIds create(CamelContext camel) {
        Properties client = new Properties();
        KafkaComponent kafka = camel.getComponent("kafka", KafkaComponent.class);
        Properties configured = kafka.getConfiguration().createConsumerProperties();
        for (String key : configured.stringPropertyNames()) {
            if (SECURITY_PREFIXES.stream().anyMatch(key::startsWith)) {
                client.put(key, configured.get(key));
            }
        }
        client.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, KafkaSettings.required(camel, KafkaSettings.BOOTSTRAP_SERVERS));
        FleetEventIds ids = new FleetEventIds(KafkaSettings.required(camel, KafkaSettings.EVENT_IDS_TOPIC), client);
        ids.setCamelContext(camel);
        return ids;
    }

    @Override
    public void setCamelContext(CamelContext camelContext) {
        this.camel = camelContext;
    }

    @Override
    public CamelContext getCamelContext() {
        return camel;
    }

    /** An event starts: false when any node backed it up already, or this node is backing it up now. */
    @Override
    public boolean add(String id) {
        return !shared().contains(id) && inFlight.add(id);
    }

    @Override
    public boolean contains(String id) {
        return shared().contains(id) || inFlight.contains(id);
    }

    /** The event failed: it may come again. Nothing was published. */
    @Override
    public boolean remove(String id) {
        return inFlight.remove(id);
    }

    /** The event is backed up: published to the fleet (before it stops being in flight, so no gap). */
    @Override
    public boolean confirm(String id) {
        shared().add(id);
        inFlight.remove(id);
        return true;
    }

    @Override
    public void clear() {
        inFlight.clear();
        shared().clear();
    }

    @Override
    protected void doStop() throws Exception {
        synchronized (syncLock) {
            ServiceHelper.stopService(shared);
            shared = null;
        }
    }

    /**
     * The fleet's ids, read from the topic the first time they are needed (and again after a failed
     * attempt, on a new repository: a broker out of reach fails this event, not the service's start).
     */
    private KafkaIdempotentRepository shared() {
        KafkaIdempotentRepository ready = shared;
        if (ready != null) {
            return ready;
        }
        synchronized (syncLock) {
            if (shared == null) {
                ensureTopic();
                Properties producer = copy(client);
                // an id is published once its event is backed up: it must outlive the broker that took it
                producer.put(ProducerConfig.ACKS_CONFIG, "all");
                KafkaIdempotentRepository repository = new StoppableRepository(topic, copy(client), producer);
                repository.setCamelContext(camel);
                try {
                    ServiceHelper.startService(repository);
                } catch (RuntimeException e) {
                    ServiceHelper.stopService(repository);
                    throw new IllegalStateException("cannot read the event ids from Kafka topic " + topic + ": " + e.getMessage(), e);
                }
                shared = repository;
            }
            return shared;
        }
    }

    /**
     * The repository reads its topic from the start and then follows it; without the topic its reader
     * would fail on every poll. A missing topic is created (one partition, ids kept a week).
     */
    private void ensureTopic() {
        Properties admin = copy(client);
        admin.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, CLIENT_TIMEOUT_MS);
        admin.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, CLIENT_TIMEOUT_MS);
        try (Admin kafka = Admin.create(admin)) {
            try {
                kafka.describeTopics(List.of(topic)).allTopicNames().get(CLIENT_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                return;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                    throw e;
                }
            }
            NewTopic ids = new NewTopic(topic, Optional.of(1), Optional.empty())
                    .configs(Map.of(TopicConfig.RETENTION_MS_CONFIG, Long.toString(RETENTION_MS)));
            try {
                kafka.createTopics(List.of(ids)).all().get(CLIENT_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e; // another node created it meanwhile: fine
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking Kafka topic " + topic, e);
        } catch (Exception e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            throw new IllegalStateException("cannot use Kafka topic " + topic + " (" + KafkaSettings.EVENT_IDS_TOPIC + ") at "
                    + client.getProperty(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG) + ": " + cause.getMessage(), cause);
        }
    }

    private static Properties copy(Properties p) {
        Properties c = new Properties();
        c.putAll(p);
        return c;
    }
}
