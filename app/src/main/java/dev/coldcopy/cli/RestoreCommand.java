package dev.coldcopy.cli;

import dev.coldcopy.libvirt.Virsh;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.repository.vm.VmBackup;
import dev.coldcopy.restore.RestoreFormat;
import dev.coldcopy.restore.RestoreRequest;
import dev.coldcopy.restore.RestoreResult;
import dev.coldcopy.restore.Restorer;
import dev.coldcopy.restore.SnapshotSelection;
import dev.coldcopy.vmrestore.VmBackupSelection;
import dev.coldcopy.vmrestore.VmRestorer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
        name = "restore",
        mixinStandardHelpOptions = true,
        description = {
            "Restore a whole VM (--to DIR) or one disk (--disk and --output).",
            "",
            "A whole VM: every disk of one VM backup (the snapshots of one stop event), its",
            "NVRAM and direct-boot files, and a domain XML pointing into DIR; with --name a",
            "new name, UUID and MAC addresses; with --define the VM is defined in libvirt,",
            "ready to start. Nothing is overwritten: DIR must not hold the files yet.",
            "",
            "One disk: a snapshot to a new qcow2 or raw image. A delta snapshot (backed up",
            "from a foreign checkpoint) restores onto a copy of its base image (--onto).",
            "",
            "Every chunk is verified first.",
            "",
            "Examples:",
            "  coldcopy restore --repo file:/backups --vm web \\",
            "      --to /var/lib/libvirt/images/web-copy --name web-copy --define",
            "  coldcopy restore --repo file:/backups --vm web \\",
            "      --snapshot 2026-12-01 --to /tmp/web",
            "  coldcopy restore --repo file:/backups --vm web --disk vda \\",
            "      --output /tmp/web-vda.qcow2"
        })
final class RestoreCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    RepositoryOptionsMixin repo;

    @Option(names = "--vm", required = true, paramLabel = "NAME", description = "The VM (libvirt domain) name.")
    String vm;

    @Option(names = "--snapshot", paramLabel = "ID|TIME|latest", defaultValue = "latest",
            description = {"Whole VM: a VM backup id (coldcopy snapshots --vms), a time (the newest backup at or before"
                    + " it: 2026-12-02T14:30:00Z, 2026-12-02T14:30 or 2026-12-02, UTC) or latest (default).",
                    "One disk: a snapshot id (coldcopy snapshots), or latest: the newest one that restores on its own,"
                    + " or with --onto the newest of all (a delta)."})
    String snapshot;

    @Option(names = "--to", paramLabel = "DIR", description = "Whole VM: the directory for its disks, files and domain XML.")
    Path to;

    @Option(names = "--name", paramLabel = "NEW",
            description = "Whole VM: the restored VM's name; it also gets a new UUID and new MAC addresses (default: the original's).")
    String name;

    @Option(names = "--define", description = "Whole VM: define it in libvirt (virsh define), ready to start.")
    boolean define;

    @Option(names = "--connect", paramLabel = "URI", defaultValue = Virsh.DEFAULT_URI,
            description = "Whole VM: the libvirt to define it in (default ${DEFAULT-VALUE}).")
    String connect;

    @Option(names = "--disk", paramLabel = "TARGET", description = "One disk: its target name (vda, sdb ...).")
    String disk;

    @Option(names = "--output", paramLabel = "PATH", description = "One disk: the image to create (must not exist).")
    Path output;

    @Option(names = "--format", paramLabel = "qcow2|raw", defaultValue = "qcow2", description = "One disk: output format (default qcow2).")
    String format;

    @Option(names = "--onto", paramLabel = "BASE",
            description = "One disk, a delta snapshot: the disk as it was at its checkpoint; it is copied, never changed.")
    Path onto;

    @Option(names = "--sync",
            description = "Wait until everything is on stable storage (fsync) before reporting success. Without it the"
                    + " files are complete when restore returns and the kernel writes them to disk in its own time, as after"
                    + " cp or qemu-img convert.")
    boolean sync;

    @Override
    public Integer call() throws Exception {
        if (to != null) {
            if (disk != null || output != null || onto != null) {
                throw new ParameterException(spec.commandLine(), "--to restores the whole VM: leave out --disk, --output and --onto");
            }
            return restoreVm();
        }
        if (name != null || define) {
            throw new ParameterException(spec.commandLine(), "--name and --define are for a whole VM: give --to DIR");
        }
        if (disk == null || output == null) {
            throw new ParameterException(spec.commandLine(), "give --to DIR (the whole VM) or --disk TARGET and --output PATH (one disk)");
        }
        try (Repository repository = repo.open()) {
            SnapshotManifest manifest = new SnapshotSelection(vm, disk, snapshot).find(repository, onto != null);
            RestoreResult result = new Restorer(repository).restore(
                    new RestoreRequest(manifest, output, RestoreFormat.parse(format), Optional.ofNullable(onto), sync));
            spec.commandLine().getOut().printf("%s/%s %s restored to %s (%s, %s written, %s zero) in %.1f s%n",
                    vm, disk, manifest.id(), result.output(), format, Sizes.human(result.bytesWritten()),
                    Sizes.human(result.bytesZeroed()), result.duration().toMillis() / 1000.0);
        }
        return 0;
    }

    private int restoreVm() throws Exception {
        Optional<Virsh> virsh = define ? Optional.of(new Virsh(connect)) : Optional.empty();
        PrintWriter out = spec.commandLine().getOut();
        try (Repository repository = repo.open()) {
            VmBackup backup = new VmBackupSelection(vm, snapshot).find(repository);
            out.println(vm + " VM backup " + backup.id() + " of " + backup.created().toString().replaceFirst("\\.\\d+Z$", "Z"));
            out.flush();
            new VmRestorer(repository).restore(new VmRestorer.Request(backup, to, Optional.ofNullable(name), virsh, sync), line -> {
                out.println(line);
                out.flush();
            });
        }
        return 0;
    }
}
