package dev.coldcopy.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A real Apache Kafka broker (4.x, KRaft: one node that is broker and controller) in its own JVM, from
 * the jars the {@code kafka-broker} module copies into its {@code target/lib}: never on the test's class
 * path, where Kafka's Scala and Jackson would clash with Camel's. Formats a log directory, starts
 * {@code kafka.Kafka} on free loopback ports and waits until it answers. {@link #stop()} and
 * {@link #start()} restart it on the same log directory and ports (a broker that goes away mid-run and
 * comes back); {@link #close()} kills it. The broker logs to {@code broker.log} in its directory.
 */
public final class KafkaBroker implements AutoCloseable {
    /** Where the kafka-broker module puts the broker's jars; found from the module's directory otherwise. */
    public static final String LIB_PROPERTY = "coldcopy.kafka.lib";
    private static final String BROKER_MAIN = "kafka.Kafka";
    private static final String STORAGE_TOOL = "kafka.tools.StorageTool";
    /** The user the SASL listener knows. */
    public static final String SASL_USER = "coldcopy";
    private static final String PLAIN_LOGIN = "org.apache.kafka.common.security.plain.PlainLoginModule required";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(30);
    /** A broker needs little heap for a test's few records; the JVM's default would be a quarter of the machine. */
    private static final List<String> JVM_OPTIONS = List.of("-Xms64m", "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

    private final Path dir;
    private final Path lib;
    private final int port;
    private final int saslPort;
    private final int controllerPort;
    private final String saslPassword;
    private Process process;

    private KafkaBroker(Path dir, Path lib) {
        this.dir = dir;
        this.lib = lib;
        this.port = Tools.freePort();
        this.saslPort = Tools.freePort();
        this.controllerPort = Tools.freePort();
        this.saslPassword = clusterId(); // any fresh random text
    }

    /** Formats a new broker in {@code dir} (created) and starts it. */
    public static KafkaBroker start(Path dir) throws IOException {
        KafkaBroker broker = new KafkaBroker(Files.createDirectories(dir), lib());
        try {
            broker.format();
            broker.start();
        } catch (RuntimeException | IOException e) {
            broker.close();
            throw e;
        }
        return broker;
    }

    /** {@code host:port} for a client's {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /**
     * {@code host:port} of the listener that wants SASL/PLAIN authentication (user {@value #SASL_USER},
     * {@link #saslJaasConfig()}): a client without those settings cannot use it.
     */
    public String saslBootstrapServers() {
        return "127.0.0.1:" + saslPort;
    }

    /** A client's {@code sasl.jaas.config} for {@link #saslBootstrapServers()}. */
    public String saslJaasConfig() {
        return PLAIN_LOGIN + " username=\"" + SASL_USER + "\" password=\"" + saslPassword + "\";";
    }

    /** Starts the broker (again) on its log directory and ports, and waits until it answers. */
    public synchronized void start() {
        if (process != null && process.isAlive()) {
            return;
        }
        List<String> command = new ArrayList<>();
        command.add(java());
        command.addAll(JVM_OPTIONS);
        command.add("-Dlog4j2.configurationFile=" + dir.resolve("log4j2.xml"));
        command.addAll(List.of("-cp", lib + File.separator + "*", BROKER_MAIN, dir.resolve("server.properties").toString()));
        try {
            process = new ProcessBuilder(command)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("broker.out").toFile()))
                    .redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the Kafka broker: " + e.getMessage(), e);
        }
        awaitAnswer();
    }

    /** Stops the broker as an operator would (SIGTERM: a controlled shutdown); its data stays. */
    public synchronized void stop() {
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        process = null;
    }

    /** Kills the broker at once. */
    @Override
    public synchronized void close() {
        if (process != null) {
            process.destroyForcibly();
            try {
                process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process = null;
        }
    }

    /** An admin client on this broker; the caller closes it. */
    public Admin admin() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) CLIENT_TIMEOUT.toMillis());
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) CLIENT_TIMEOUT.toMillis());
        return Admin.create(p);
    }

    /** Creates the topic (a topic that already exists is left as it is). */
    public void createTopic(String name, int partitions) {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get(CLIENT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("cannot create topic " + name + ": " + e.getCause().getMessage(), e.getCause());
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot create topic " + name + ": " + e.getMessage(), e);
        }
    }

    /** Sends one record and waits for the broker's acknowledgement. */
    public void send(String topic, String key, String value) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(topic, key, value)).get(CLIENT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot send to " + topic + ": " + e.getMessage(), e);
        }
    }

    /** Every record of the topic from its beginning, read without a consumer group (so committing nothing). */
    public List<ConsumerRecord<String, String>> records(String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, CLIENT_TIMEOUT).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, CLIENT_TIMEOUT);
            Instant deadline = Instant.now().plus(CLIENT_TIMEOUT);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp, CLIENT_TIMEOUT) < end.get(tp))) {
                if (Instant.now().isAfter(deadline)) {
                    throw new IllegalStateException("could not read " + topic + " to its end within " + CLIENT_TIMEOUT);
                }
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    /**
     * How many records of the topic the consumer group has not committed yet (end offset minus committed
     * offset, over every partition; a partition the group never committed counts whole).
     */
    public long lag(String group, String topic) {
        try (Admin admin = admin()) {
            Set<TopicPartition> partitions = admin.describeTopics(List.of(topic)).allTopicNames()
                    .get(CLIENT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).get(topic).partitions().stream()
                    .map(i -> new TopicPartition(topic, i.partition())).collect(Collectors.toSet());
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()
                    .get(CLIENT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            partitions.forEach(tp -> latest.put(tp, OffsetSpec.latest()));
            var ends = admin.listOffsets(latest).all().get(CLIENT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            long lag = 0;
            for (TopicPartition tp : partitions) {
                OffsetAndMetadata c = committed.get(tp);
                lag += ends.get(tp).offset() - (c == null ? 0 : c.offset());
            }
            return lag;
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the lag of group " + group + " on " + topic + ": " + e.getMessage(), e);
        }
    }

    /** The broker's own log (for a failure message). */
    public Path logFile() {
        return dir.resolve("broker.log");
    }

    private void format() throws IOException {
        Files.writeString(dir.resolve("server.properties"), serverProperties(), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("log4j2.xml"), log4jConfig(), StandardCharsets.UTF_8);
        List<String> command = new ArrayList<>();
        command.add(java());
        command.addAll(JVM_OPTIONS);
        command.add("-Dlog4j2.configurationFile=" + dir.resolve("log4j2.xml"));
        command.addAll(List.of("-cp", lib + File.separator + "*", STORAGE_TOOL, "format",
                "--cluster-id", clusterId(), "--config", dir.resolve("server.properties").toString()));
        Tools.run(Duration.ofSeconds(60), command);
    }

    private String serverProperties() {
        return String.join("\n",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                "listeners=PLAINTEXT://127.0.0.1:" + port + ",SASL_PLAINTEXT://127.0.0.1:" + saslPort
                        + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + port + ",SASL_PLAINTEXT://127.0.0.1:" + saslPort,
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
                // a second listener for clients that must authenticate (SASL/PLAIN, one user)
                "sasl.enabled.mechanisms=PLAIN",
                "listener.name.sasl_plaintext.plain.sasl.jaas.config=" + PLAIN_LOGIN
                        + " user_" + SASL_USER + "=\"" + saslPassword + "\";",
                "log.dirs=" + dir.resolve("data"),
                "num.partitions=1",
                // one node: every internal topic has one replica; few partitions start faster on two cores
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "transaction.state.log.num.partitions=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                // a test's consumer joins at once instead of waiting for more members
                "group.initial.rebalance.delay.ms=0",
                // a session timeout of a few seconds (a dead node's partitions move quickly) is allowed
                "group.min.session.timeout.ms=1000",
                "");
    }

    private String log4jConfig() {
        return """
                <?xml version="1.0" encoding="UTF-8"?>
                <Configuration status="warn">
                  <Appenders>
                    <File name="file" fileName="%s">
                      <PatternLayout pattern="%%d{HH:mm:ss.SSS} %%-5p [%%c{1}] %%m%%n"/>
                    </File>
                  </Appenders>
                  <Loggers>
                    <Root level="info"><AppenderRef ref="file"/></Root>
                  </Loggers>
                </Configuration>
                """.formatted(dir.resolve("broker.log"));
    }

    /** As Kafka's own random cluster ids: 16 random bytes, URL-safe base64, not starting with '-'. */
    private static String clusterId() {
        SecureRandom random = new SecureRandom();
        byte[] bytes = new byte[16];
        String id;
        do {
            random.nextBytes(bytes);
            id = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        } while (id.startsWith("-"));
        return id;
    }

    private void awaitAnswer() {
        Instant deadline = Instant.now().plus(START_TIMEOUT);
        awaitListening(deadline); // before that, a client only logs warnings about the refused connections
        try (Admin admin = admin()) {
            while (true) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("the Kafka broker exited with " + process.exitValue() + "; see " + dir.resolve("broker.out")
                            + " and " + logFile());
                }
                try {
                    if (!admin.describeCluster().nodes().get(2, TimeUnit.SECONDS).isEmpty()) {
                        return;
                    }
                } catch (Exception e) {
                    // not listening yet
                }
                if (Instant.now().isAfter(deadline)) {
                    throw new IllegalStateException("the Kafka broker did not answer within " + START_TIMEOUT + "; see " + logFile());
                }
                Thread.sleep(200);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for the Kafka broker", e);
        }
    }

    private void awaitListening(Instant deadline) {
        while (true) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
                return;
            } catch (IOException e) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("the Kafka broker exited with " + process.exitValue() + "; see " + dir.resolve("broker.out")
                            + " and " + logFile());
                }
                if (Instant.now().isAfter(deadline)) {
                    throw new IllegalStateException("the Kafka broker did not listen on " + bootstrapServers() + " within " + START_TIMEOUT
                            + "; see " + logFile());
                }
                try {
                    Thread.sleep(200);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted waiting for the Kafka broker", interrupted);
                }
            }
        }
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** The broker's jars: {@value #LIB_PROPERTY}, else kafka-broker/target/lib above the working directory. */
    private static Path lib() {
        String configured = System.getProperty(LIB_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            return requireJars(Path.of(configured));
        }
        for (Path d = Path.of(System.getProperty("user.dir")).toAbsolutePath(); d != null; d = d.getParent()) {
            Path candidate = d.resolve("kafka-broker").resolve("target").resolve("lib");
            if (Files.isDirectory(candidate)) {
                return requireJars(candidate);
            }
        }
        throw new IllegalStateException("no Kafka broker jars: build the kafka-broker module first (mvn -pl app -am verify builds it)");
    }

    private static Path requireJars(Path dir) {
        try (var files = Files.list(dir)) {
            if (files.noneMatch(f -> f.getFileName().toString().startsWith("kafka_2.13-"))) {
                throw new IllegalStateException("no kafka_2.13 jar in " + dir + ": build the kafka-broker module (without -DskipTests)");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        return dir;
    }
}
