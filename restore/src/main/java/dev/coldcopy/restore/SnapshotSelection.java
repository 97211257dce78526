package dev.coldcopy.restore;

import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.SnapshotKind;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.repository.SnapshotSummary;
import java.io.IOException;
import java.util.Comparator;
import java.util.Optional;

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
        return find(repository, false);
    }

    /**
     * As {@link #find(Repository)}; {@code ontoBase}: a base image is given for a delta. A delta is a side branch,
     * so without a base {@value #LATEST} is the newest snapshot that restores on its own, even when a delta is newer.
     */
    public SnapshotManifest find(Repository repository, boolean ontoBase) throws IOException {
        if (!LATEST.equals(snapshot)) {
            SnapshotManifest m = repository.load(SnapshotId.parse(snapshot));
            if (!m.vm().equals(vm) || !m.disk().equals(disk)) {
                throw new IllegalArgumentException("snapshot " + snapshot + " is of " + m.vm() + "/" + m.disk() + ", not " + vm + "/" + disk);
            }
            return m;
        }
        SnapshotManifest newest = repository.latest(vm, disk).orElseThrow(() ->
                new IllegalArgumentException("no snapshot of " + vm + "/" + disk + " in " + repository.uri()));
        if (ontoBase || newest.kind() != SnapshotKind.DELTA) {
            return newest;
        }
        Optional<SnapshotId> alone = repository.list(Optional.of(vm)).stream()
                .filter(s -> s.disk().equals(disk) && s.kind() != SnapshotKind.DELTA)
                .map(SnapshotSummary::id).max(Comparator.naturalOrder());
        if (alone.isEmpty()) {
            throw new IllegalArgumentException("every snapshot of " + vm + "/" + disk + " is a delta, newest " + newest.id()
                    + ": give its base image (--onto BASE)");
        }
        return repository.load(alone.get());
    }
}
