package dev.coldcopy.fleet;

import dev.coldcopy.cli.ColdcopyCommand;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.testing.S3ProxyServer;
import dev.coldcopy.testing.KafkaBroker;
import java.util.LinkedHashMap;
import dev.coldcopy.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One coldcopy service of a test fleet: {@code coldcopy run --profile kafka} as its own JVM (the test's class
 * path, the real main class), with its own home and HTTP port. Its log is kept; {@link #kill()} is a kill -9.
 */
final class FleetNode implements AutoCloseable {
    final String name;
    final Path home;
    final Path log;
    private final List<String> command;
    private Process process;

    private FleetNode(String name, Path home, List<String> command) {
        this.name = name;
        this.home = home;
        this.log = home.resolve("node.log");
        this.command = command;
    }

    /** A node of one S3 repository and one Kafka broker, images under {@code images}, in {@code group} on {@code eventsTopic}. */
    static Map<String, String> settings(RepositoryUri repository, KafkaBroker kafka, Path images, String group, String eventsTopic) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("coldcopy.repository", repository.raw());
        s.put("coldcopy.repository.s3.access-key", S3ProxyServer.ACCESS_KEY);
        s.put("coldcopy.repository.s3.secret-key", S3ProxyServer.SECRET_KEY);
        s.put("coldcopy.repository.fsync", "false");
        s.put("coldcopy.allowed-roots", images.toString());
        s.put("coldcopy.kafka.bootstrap-servers", kafka.bootstrapServers());
        s.put("coldcopy.kafka.group-id", group);
        s.put("coldcopy.kafka.events-topic", eventsTopic);
        s.put("coldcopy.spool.poll-ms", "200");
        s.put("coldcopy.retry.delay-ms", "500");
        return s;
    }

    /** {@code settings}: -D settings of the node (repository, Kafka, roots ...); the node's name and home are added. */
    static FleetNode start(String name, Path home, Map<String, String> settings) throws IOException {
        Files.createDirectories(home);
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), ColdcopyCommand.class.getName(), "run", "--profile", "kafka"));
        command.add("-Dcoldcopy.home=" + home);
        command.add("-Dcoldcopy.kafka.node=" + name);
        command.add("-Dcamel.server.port=" + Tools.freePort());
        settings.forEach((k, v) -> command.add("-D" + k + "=" + v));
        FleetNode node = new FleetNode(name, home, command);
        node.start();
        return node;
    }

    void start() throws IOException {
        process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    String log() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    boolean alive() {
        return process != null && process.isAlive();
    }

    /** kill -9: no shutdown hook runs, nothing is rolled back by the node itself. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        if (alive()) {
            process.destroy();                                // SIGTERM: the service stops its routes
            if (!process.waitFor(40, TimeUnit.SECONDS)) {
                kill();
            }
        }
    }
}
