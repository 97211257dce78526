package dev.coldcopy.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code coldcopy} as its own JVM (the test's class path, the real main class), with an environment of
 * the test's choosing: what a user gets from {@code bin/coldcopy}, environment variables included.
 * Output goes to files in {@code dir}; {@link #close()} kills the process if it still runs.
 */
final class ColdcopyProcess implements AutoCloseable {
    private final Process process;
    private final Path out;
    private final Path err;

    private ColdcopyProcess(Process process, Path out, Path err) {
        this.process = process;
        this.out = out;
        this.err = err;
    }

    static ColdcopyProcess start(Path dir, Map<String, String> environment, String... args) throws IOException {
        Files.createDirectories(dir);
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), ColdcopyCommand.class.getName()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile(dir, "stdout", ".txt");
        Path err = Files.createTempFile(dir, "stderr", ".txt");
        ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        builder.environment().remove("COLDCOPY_HOME");
        builder.environment().putAll(environment);
        return new ColdcopyProcess(builder.start(), out, err);
    }

    /** Runs to the end (killed after the timeout) and returns its exit status and output. */
    static CliRun run(Path dir, Duration timeout, Map<String, String> environment, String... args) throws Exception {
        try (ColdcopyProcess p = start(dir, environment, args)) {
            return p.awaitExit(timeout);
        }
    }

    CliRun awaitExit(Duration timeout) throws Exception {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly().waitFor();
            throw new AssertionError("coldcopy did not end within " + timeout + "; stderr: " + err());
        }
        return new CliRun(process.exitValue(), out(), err());
    }

    boolean isAlive() {
        return process.isAlive();
    }

    String out() throws IOException {
        return Files.readString(out, StandardCharsets.UTF_8);
    }

    String err() throws IOException {
        return Files.readString(err, StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }
}
