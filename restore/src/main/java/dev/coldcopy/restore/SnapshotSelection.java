package dev.coldcopy.restore;

import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.SnapshotManifest;
import java.io.IOException;

/**
 * Which snapshot restore and serve work on: a VM's disk, and a snapshot id or {@value #LATEST}.
 * The CLI, the coldcopy-serve endpoint and the serveSnapshot processor share it so they refuse the same
 * selections with the same one-line reasons.
 */
public record SnapshotSelection(String vm, String disk, String snapshot) {

    /** the disk's newest snapshot at the time of the lookup */
    public static final String LATEST = "latest";

    public SnapshotSelection {
        if (snapshot == null || snapshot.isBlank()) {
            snapshot = LATEST;
        }
    }

    /** the chosen snapshot's manifest; a one-line reason when there is none or it is another disk's */
    public SnapshotManifest find(Repository repository) throws IOException {
        if (!LATEST.equals(snapshot)) {
            SnapshotManifest m = repository.load(SnapshotId.parse(snapshot));
            if (!m.vm().equals(vm) || !m.disk().equals(disk)) {
                throw new IllegalArgumentException("snapshot " + snapshot + " is of " + m.vm() + "/" + m.disk() + ", not " + vm + "/" + disk);
            }
            return m;
        }
        return repository.latest(vm, disk).orElseThrow(() ->
                new IllegalArgumentException("no snapshot of " + vm + "/" + disk + " in " + repository.uri()));
    }
}
