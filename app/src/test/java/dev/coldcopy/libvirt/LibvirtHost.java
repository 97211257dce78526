package dev.coldcopy.libvirt;

import dev.coldcopy.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * This machine's libvirtd (qemu:///system) with coldcopy's hook installed, brought up by
 * {@code bin/libvirt-test-host} and put back as it was by {@link #close()}: the hook and its
 * configuration restored, and only the daemons this run started stopped again.
 */
public final class LibvirtHost implements AutoCloseable {
    public static final String URI = "qemu:///system";
    /** Every domain a test defines carries this prefix, so a leftover of a crashed run is recognisable. */
    public static final String DOMAIN_PREFIX = "coldcopy-test-";
    private static final Duration SCRIPT_TIMEOUT = Duration.ofSeconds(90);

    private final Path script;
    private final List<String> started;

    private LibvirtHost(Path script, List<String> started) {
        this.script = script;
        this.started = started;
    }

    /** Why libvirt tests cannot run here, or empty when they can. */
    public static String unavailableReason() {
        for (String program : List.of("virsh", "libvirtd", "virtlogd", "qemu-system-x86_64", "python3")) {
            if (!Tools.available(program) && !Files.isExecutable(Path.of("/usr/sbin", program))) {
                return program + " is not installed (bin/setup --test installs libvirt and qemu-system-x86)";
            }
        }
        if (!"0".equals(Tools.run("id", "-u").strip())) {
            return "not root: the libvirt tests start libvirtd and install a libvirt hook";
        }
        return "";
    }

    /**
     * {@link #up()} where the libvirt tests can run; elsewhere the calling test class is skipped, except in CI,
     * where a missing prerequisite fails the run instead of hiding it. {@code more}: further reasons not to run
     * (an empty string when there is none).
     */
    public static LibvirtHost upOrSkip(String... more) {
        String unavailable = unavailableReason();
        for (String reason : more) {
            if (unavailable.isEmpty()) {
                unavailable = reason;
            }
        }
        if (!unavailable.isEmpty()) {
            if ("true".equals(System.getenv("CI"))) {
                org.junit.jupiter.api.Assertions.fail("libvirt tests cannot run in CI: " + unavailable);
            }
            org.junit.jupiter.api.Assumptions.abort(unavailable);
        }
        return up();
    }

    /** Installs the project's hook and makes sure libvirtd runs. */
    public static LibvirtHost up() {
        Path root = projectRoot();
        Path script = root.resolve("bin/libvirt-test-host");
        Path hook = root.resolve("config/libvirt/hooks/qemu");
        String out = Tools.run(SCRIPT_TIMEOUT, List.of(script.toString(), "up", hook.toString()));
        List<String> started = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (line.startsWith("started:")) {
                started.addAll(Arrays.stream(line.substring("started:".length()).trim().split("\\s+"))
                        .filter(s -> !s.isEmpty()).toList());
            }
        }
        LibvirtHost host = new LibvirtHost(script, started);
        host.removeLeftoverDomains();
        return host;
    }

    /** Points the installed hook at this spool directory (read by the hook on every call). */
    public void spool(Path dir) {
        Tools.run(SCRIPT_TIMEOUT, List.of(script.toString(), "spool", dir.toString()));
    }

    /** Runs {@code virsh -c qemu:///system ARGS...} and returns its stdout. */
    public static String virsh(String... args) {
        List<String> command = new ArrayList<>(List.of("virsh", "-c", URI));
        command.addAll(List.of(args));
        return Tools.run(Duration.ofSeconds(60), command);
    }

    /** Domains left behind by a run that died before its cleanup (only ever ours, by prefix). */
    private void removeLeftoverDomains() {
        for (String name : virsh("list", "--all", "--name").split("\n")) {
            if (name.strip().startsWith(DOMAIN_PREFIX)) {
                TestVm.remove(name.strip());
            }
        }
    }

    @Override
    public void close() {
        List<String> command = new ArrayList<>(List.of(script.toString(), "down"));
        command.addAll(started);
        Tools.run(SCRIPT_TIMEOUT, command);
    }

    private static Path projectRoot() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isExecutable(dir.resolve("bin/libvirt-test-host"))) {
                return dir;
            }
        }
        throw new IllegalStateException("bin/libvirt-test-host not found above " + Path.of("").toAbsolutePath());
    }
}
