package dev.coldcopy.libvirt;

import dev.coldcopy.event.EventNames;
import dev.coldcopy.process.ProcessResult;
import dev.coldcopy.process.ProcessRunner;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The few libvirt calls coldcopy makes, through {@code virsh -c URI} (an argument list, never a shell): a
 * domain's state, its inactive XML and a new definition. Without {@code --security-info}, libvirt leaves
 * passwords out of the XML it prints.
 */
public final class Virsh {
    public static final String DEFAULT_URI = "qemu:///system";
    /** libvirt's word for a stopped domain in {@code domstate}. */
    public static final String SHUT_OFF = "shut off";
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    /** qemu:///system, qemu+ssh://host/system, test:///default ...: no spaces, no option-like leading dash */
    private static final Pattern URI = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9._~:/?#@!$&'()*+,;=%-]*");

    private final String uri;

    public Virsh(String uri) {
        if (uri == null || !URI.matcher(uri).matches()) {
            throw new IllegalArgumentException("libvirt connection URI '" + uri + "' is not valid (e.g. " + DEFAULT_URI + ")");
        }
        this.uri = uri;
    }

    public String uri() {
        return uri;
    }

    /** {@code shut off}, {@code running}, {@code paused} ...; a one-line reason when the domain does not exist. */
    public String state(String domain) {
        checkConnection();
        if (!exists(domain)) {
            throw new LibvirtException("no domain named " + domain + " on " + uri + " (virsh -c " + uri + " list --all)");
        }
        return run("domstate", EventNames.vm(domain)).strip();
    }

    /** Fails with libvirt's reason when it cannot be reached (wrong URI, libvirtd not running, no permission). */
    public void checkConnection() {
        run("uri");
    }

    /** Whether a domain of this name is defined; libvirt must be reachable ({@link #checkConnection}). */
    public boolean exists(String domain) {
        return ProcessRunner.run(command("dominfo", EventNames.vm(domain)), TIMEOUT).succeeded();
    }

    /** The definition libvirt will use at the next start (not the running one's), without secrets. */
    public String inactiveXml(String domain) {
        return run("dumpxml", "--inactive", EventNames.vm(domain));
    }

    public void define(Path xml) {
        run("define", xml.toAbsolutePath().toString());
    }

    private String run(String... args) {
        ProcessResult result = ProcessRunner.run(command(args), TIMEOUT);
        if (!result.succeeded()) {
            String why = result.stderrOneLine().replaceFirst("^error: ", "").replace("error: ", "");
            throw new LibvirtException("libvirt at " + uri + " (virsh " + args[0] + "): " + (why.isBlank() ? "exit " + result.exitCode() : why));
        }
        return result.stdout();
    }

    private List<String> command(String... args) {
        List<String> command = new ArrayList<>(List.of("virsh", "-q", "-c", uri));
        command.addAll(List.of(args));
        return command;
    }
}
