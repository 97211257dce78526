package dev.coldcopy.serve;

import dev.coldcopy.repository.SnapshotManifest;

/**
 * What one server offers: a snapshot under a name (its id, which needs no escaping in an NBD URI).
 * Clients may also ask for the empty (default) name.
 */
public record ServedExport(String name, String description, SnapshotImage image) {

    public static ServedExport of(SnapshotManifest manifest, ChunkCache cache) {
        return of(manifest, cache, null);
    }

    /** {@code base}: for a delta, the image it applies to (see {@link SnapshotImage}); else null */
    public static ServedExport of(SnapshotManifest manifest, ChunkCache cache, BaseImage base) {
        String onto = base == null ? "" : " onto " + base.path();
        return new ServedExport(manifest.id().value(),
                manifest.vm() + "/" + manifest.disk() + " snapshot " + manifest.id() + " (" + manifest.kind().label() + onto + ", read-only)",
                new SnapshotImage(manifest, cache, base));
    }

    public boolean answersTo(String requested) {
        return requested.isEmpty() || requested.equals(name);
    }
}
