package dev.coldcopy.cli;

import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.restore.SnapshotSelection;
import java.io.IOException;
import picocli.CommandLine.Option;

/** Which snapshot a command works on: a VM's disk, and an id or the latest (restore, serve). */
final class SnapshotSelectionMixin {

    @Option(names = "--vm", required = true, paramLabel = "NAME")
    String vm;

    @Option(names = "--disk", required = true, paramLabel = "TARGET")
    String disk;

    @Option(names = "--snapshot", paramLabel = "ID|latest", defaultValue = "latest",
            description = "Snapshot id (see `coldcopy snapshots`), or latest (default): the newest one that restores"
                    + " on its own, or with --onto the newest of all (a delta).")
    String snapshot;

    /** the chosen snapshot's manifest; a one-line reason when there is none or it is another disk's */
    SnapshotManifest find(Repository repository, boolean ontoBase) throws IOException {
        return new SnapshotSelection(vm, disk, snapshot).find(repository, ontoBase);
    }
}
