package dev.coldcopy.cli;

import dev.coldcopy.event.BackupEvent;
import dev.coldcopy.event.DiskSpec;
import dev.coldcopy.event.EventNames;
import dev.coldcopy.event.EventParser;
import dev.coldcopy.domain.DomainDefinition;
import dev.coldcopy.libvirt.Virsh;
import dev.coldcopy.service.ColdcopyHeaders;
import dev.coldcopy.service.vm.VmResult;
import picocli.CommandLine.ParameterException;
import dev.coldcopy.service.BackupEngine;
import dev.coldcopy.service.BackupEngineHolder;
import dev.coldcopy.service.BackupProgress;
import dev.coldcopy.service.BackupResult;
import dev.coldcopy.service.ColdcopyMain;
import dev.coldcopy.service.DiskResults;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.main.Main;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
        name = "backup",
        mixinStandardHelpOptions = true,
        description = {
            "Back up a stopped VM now: a libvirt domain, or images.",
            "",
            "With --domain: every qcow2 and raw file disk of the domain, its definition",
            "(inactive XML), NVRAM and direct-boot kernel/initrd/dtb; other disks (cdrom,",
            "read-only, network) are listed as skipped. A running domain is refused.",
            "",
            "Runs the same routes as the service. Prints one line per disk, then the VM:",
            "  VM/TARGET SNAPSHOT-ID full|incremental|delta REASON",
            "  VM VM-BACKUP-ID vm TARGET...[; skipped TARGET (REASON)][; files ROLE...]",
            "",
            "Images must lie under an allowed root (coldcopy.allowed-roots:",
            "/var/lib/libvirt/images and $COLDCOPY_HOME/images), host files under those",
            "or coldcopy.allowed-file-roots (/var/lib/libvirt/qemu/nvram, /boot and",
            "/var/lib/libvirt/boot); --allow-root DIR allows another directory for this",
            "backup. A domain with a disk or file elsewhere is refused whole.",
            "",
            "Examples:",
            "  coldcopy backup --repo file:/backups --domain web",
            "  coldcopy backup --repo file:/backups --vm web \\",
            "      --disk vda=/var/lib/libvirt/images/web.qcow2",
            "  coldcopy backup --repo file:/tmp/backups --vm test \\",
            "      --disk vda=/tmp/test.qcow2 --allow-root /tmp"
        })
final class BackupCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    RepositoryOptionsMixin repo;

    @Option(names = "--domain", paramLabel = "NAME",
            description = "A libvirt domain: every file-backed disk, its definition and host files (instead of --vm/--disk).")
    String domain;

    @Option(names = "--connect", paramLabel = "URI", defaultValue = Virsh.DEFAULT_URI,
            description = "With --domain: the libvirt to ask (default ${DEFAULT-VALUE}).")
    String connect;

    @Option(names = "--vm", paramLabel = "NAME", description = "The VM name, with --disk (images without libvirt).")
    String vm;

    @Option(names = "--disk", paramLabel = "TARGET=IMAGE",
            description = "A disk to back up: its target name and top qcow2 or raw image. Repeat for more disks.")
    List<String> disks = new ArrayList<>();

    @Option(names = "--checkpoint", paramLabel = "NAME",
            description = "Back up the changes since this bitmap (e.g. a libvirt checkpoint) instead of coldcopy's latest.")
    String checkpoint;

    @Option(names = "--allow-root", paramLabel = "DIR",
            description = "Also allow images and host files under DIR (default: coldcopy.allowed-roots and"
                    + " coldcopy.allowed-file-roots from the configuration).")
    List<Path> allowRoots = new ArrayList<>();

    @Option(names = "--export-way", paramLabel = "WAY", description = "storage-daemon (default) or qemu-nbd.")
    String exportWay;

    @Option(names = "--config", paramLabel = "DIR", description = "Configuration directory (as for run).")
    Path configDir;

    @Option(names = "-D", paramLabel = "KEY=VALUE", mapFallbackValue = "", description = "Override one setting.")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        BackupEvent event = domain != null ? domainEvent() : imagesEvent();
        Map<String, String> settings = new LinkedHashMap<>(overrides);
        settings.put("coldcopy.repository", repo.repository);
        settings.put("camel.server.enabled", "false");
        settings.put("camel.management.enabled", "false");
        settings.put("camel.main.jmxEnabled", "false");        // JMX costs seconds of start-up a one-shot backup never uses
        // a new repository is created encrypted when a key file is given
        putPath(settings, "coldcopy.repository.key-file", repo.keyFile);
        putPath(settings, "coldcopy.repository.sftp.private-key-file", repo.sftpKey);
        putPath(settings, "coldcopy.repository.sftp.known-hosts-file", repo.knownHosts);
        if (exportWay != null) {
            settings.put("coldcopy.export.way", exportWay);
        }
        Main main = new ColdcopyMain(Optional.ofNullable(configDir), List.of(), settings,
                // errors.yaml: which disk failures are retried, and one line (no stack trace) for the others
                "backup.yaml,errors.yaml").build();
        main.start();
        Thread onInterrupt = null;
        try {
            CamelContext camel = main.getCamelContext();
            BackupEngineHolder engines = camel.getRegistry().lookupByNameAndType("backupEngine", BackupEngineHolder.class);
            onInterrupt = rollBackOnInterrupt(engines, camel);
            if (!allowRoots.isEmpty()) {
                String roots = camel.resolvePropertyPlaceholders("{{coldcopy.allowed-roots}}") + ","
                        + allowRoots.stream().map(p -> p.toAbsolutePath().toString()).collect(Collectors.joining(","));
                camel.getPropertiesComponent().addOverrideProperty("coldcopy.allowed-roots", roots);
            }
            engine(camel).progress(System.console() != null ? BackupProgress.terminalBar(System.err)
                            : BackupProgress.logLines(java.time.Duration.ofSeconds(2)));
            ProducerTemplate producer = camel.createProducerTemplate();
            // send, not request: a failed event still carries the results of the disks that did commit, and
            // those snapshots exist, so their lines are printed whatever happened to the others
            Exchange done = producer.send("direct:backup-vm", exchange -> {
                exchange.getMessage().setBody(event);
                exchange.getMessage().setHeader(dev.coldcopy.service.ColdcopyHeaders.EVENT_ID, event.id());
            });
            @SuppressWarnings("unchecked")
            List<BackupResult> recorded = done.getProperty(dev.coldcopy.service.ColdcopyHeaders.RESULTS, List.class);
            List<BackupResult> results = recorded != null ? recorded : List.of();
            results.stream().filter(r -> "ok".equals(r.outcome())).forEach(r -> spec.commandLine().getOut().println(r.line()));
            VmResult vmResult = done.getProperty(ColdcopyHeaders.VM_RESULT, VmResult.class);
            if (vmResult != null && "ok".equals(vmResult.outcome())) {
                spec.commandLine().getOut().println(vmResult.line());
                vmResult.notes().forEach(n -> spec.commandLine().getErr().println("coldcopy backup: note: " + n));
            }
            spec.commandLine().getOut().flush();
            Exception e = done.getException();
            if (e != null) {
                String reason = dev.coldcopy.service.Reasons.oneLine(e);
                String hinted = withAllowRootHint(reason);
                if (hinted.equals(reason)) {
                    throw e;
                }
                throw new IllegalArgumentException(hinted, e);
            }
            List<String> failed = results.stream().filter(r -> !"ok".equals(r.outcome())).map(r -> withAllowRootHint(r.reason())).toList();
            if (!failed.isEmpty()) {
                spec.commandLine().getErr().println("coldcopy backup: " + String.join("; ", failed));
                return OneLineErrors.EXIT_FAILURE;
            }
            return 0;
        } finally {
            if (onInterrupt != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(onInterrupt);
                } catch (IllegalStateException e) {
                    // the JVM is already shutting down: the hook is rolling the backup back
                }
            }
            main.stop();
        }
    }

    /**
     * Ctrl-C or SIGTERM (the JVM runs its shutdown hooks, then exits with 128+signal): say so on one line,
     * stop every export, remove the new checkpoints and release the disks before the JVM goes. Nothing is
     * committed after this; a SIGKILL is covered by the watchdog instead.
     */
    private static Thread rollBackOnInterrupt(BackupEngineHolder engines, CamelContext camel) {
        Thread hook = new Thread(() -> {
            System.err.println("interrupted: stopping the export and rolling back");
            System.err.flush();
            engines.get(camel).abortAll();
        }, "coldcopy-interrupt");
        Runtime.getRuntime().addShutdownHook(hook);
        return hook;
    }

    private static BackupEngine engine(CamelContext camel) {
        try {
            return camel.getRegistry().lookupByNameAndType("backupEngine", BackupEngineHolder.class).get(camel);
        } catch (IllegalStateException e) {
            throw new IllegalStateException(withAllowRootHint(e.getMessage()), e);
        }
    }

    /** An image refused for its place: on the command line the remedy is the option, not the setting. */
    static String withAllowRootHint(String reason) {
        if (reason == null || !(reason.contains("outside the allowed roots") || reason.contains("none of the allowed image roots exists"))) {
            return reason;
        }
        return reason.replace(" (set coldcopy.allowed-roots)", "") + " (allow its directory with --allow-root DIR)";
    }

    private static void putPath(Map<String, String> settings, String key, Path path) {
        if (path != null) {
            settings.put(key, path.toAbsolutePath().toString());
        }
    }

    /** The images named with --vm and --disk. */
    private BackupEvent imagesEvent() {
        if (vm == null || disks.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "give --domain NAME (a libvirt domain), or --vm NAME and --disk TARGET=IMAGE");
        }
        return new BackupEvent("cli-" + UUID.randomUUID(), EventNames.vm(vm), diskSpecs(),
                Optional.ofNullable(checkpoint).map(EventNames::checkpoint));
    }

    /**
     * The libvirt domain's definition as it will next start, read only when the domain is shut off: a running
     * one is refused here, before anything is touched.
     */
    private BackupEvent domainEvent() {
        if (vm != null || !disks.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "--domain takes every disk from libvirt: leave out --vm and --disk");
        }
        Virsh virsh = new Virsh(connect);
        String state = virsh.state(EventNames.vm(domain));
        if (!Virsh.SHUT_OFF.equals(state)) {
            throw new IllegalArgumentException("domain " + domain + " is " + state + ": coldcopy backs up stopped VMs only"
                    + " (shut it down first); nothing was touched");
        }
        DomainDefinition definition = DomainDefinition.parse(virsh.inactiveXml(domain));
        return new BackupEvent("cli-" + UUID.randomUUID(), definition.name(), EventParser.domainDisks(definition),
                Optional.ofNullable(checkpoint).map(EventNames::checkpoint), Optional.of(definition));
    }

    private List<DiskSpec> diskSpecs() {
        List<DiskSpec> specs = new ArrayList<>();
        for (String d : disks) {
            int eq = d.indexOf('=');
            if (eq <= 0 || eq == d.length() - 1) {
                throw new IllegalArgumentException("--disk '" + d + "' must be TARGET=IMAGE, e.g. vda=/var/lib/libvirt/images/web.qcow2");
            }
            // not normalize()d: "dirlink/../x" is for the kernel to resolve (symlink first), as the VM would
            specs.add(new DiskSpec(EventNames.target(d.substring(0, eq)), Path.of(d.substring(eq + 1)).toAbsolutePath()));
        }
        if (specs.stream().map(DiskSpec::target).distinct().count() < specs.size()) {
            throw new IllegalArgumentException("--disk: a target appears twice");
        }
        return DiskSpec.requireDistinctImages(specs);
    }
}
