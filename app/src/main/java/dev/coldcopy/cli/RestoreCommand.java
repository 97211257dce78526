package dev.coldcopy.cli;

import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.restore.RestoreFormat;
import dev.coldcopy.restore.RestoreRequest;
import dev.coldcopy.restore.RestoreResult;
import dev.coldcopy.restore.Restorer;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
        name = "restore",
        mixinStandardHelpOptions = true,
        description = {
            "Restore a snapshot of a disk to a new qcow2 or raw image.",
            "",
            "Every chunk is verified first. A delta snapshot (backed up from a foreign",
            "checkpoint) restores onto a copy of its base image (--onto).",
            "",
            "Example:",
            "  coldcopy restore --repo file:/backups --vm web --disk vda \\",
            "      --output /tmp/web-vda.qcow2"
        })
final class RestoreCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    RepositoryOptionsMixin repo;

    @Mixin
    SnapshotSelectionMixin selection;




    @Option(names = "--output", required = true, paramLabel = "PATH", description = "Image to create (must not exist).")
    Path output;

    @Option(names = "--format", paramLabel = "qcow2|raw", defaultValue = "qcow2", description = "Output format (default qcow2).")
    String format;

    @Option(names = "--onto", paramLabel = "BASE",
            description = "For a delta snapshot: the disk as it was at its checkpoint; it is copied, never changed.")
    Path onto;

    @Option(names = "--sync",
            description = "Wait until the image is on stable storage (fsync) before reporting success. Without it the"
                    + " image is complete when restore returns and the kernel writes it to disk in its own time, as after"
                    + " cp or qemu-img convert.")
    boolean sync;

    @Override
    public Integer call() throws Exception {
        try (Repository repository = repo.open()) {
            SnapshotManifest manifest = selection.find(repository, onto != null);
            RestoreResult result = new Restorer(repository).restore(
                    new RestoreRequest(manifest, output, RestoreFormat.parse(format), Optional.ofNullable(onto), sync));
            spec.commandLine().getOut().printf("%s/%s %s restored to %s (%s, %s written, %s zero) in %.1f s%n",
                    selection.vm, selection.disk, manifest.id(), result.output(), format, Sizes.human(result.bytesWritten()),
                    Sizes.human(result.bytesZeroed()), result.duration().toMillis() / 1000.0);
        }
        return 0;
    }
}
