package dev.coldcopy.restore;

import dev.coldcopy.repository.SnapshotManifest;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * What to restore where.
 *
 * @param snapshot the snapshot's manifest ({@code repo.load(id)} or {@code repo.latest(vm, disk)})
 * @param output   the image to create; must not exist
 * @param format   raw (sparse file) or qcow2
 * @param onto     for a DELTA snapshot: the base image it applies to (copied, never changed)
 * @param sync     write the image through to stable storage (fsync) before reporting success; without it
 *                 the image is complete in the page cache when restore returns, as after {@code cp} or
 *                 {@code qemu-img convert}, and the kernel writes it back in its own time
 */
public record RestoreRequest(SnapshotManifest snapshot, Path output, RestoreFormat format, Optional<Path> onto, boolean sync) {
    public RestoreRequest {
        Objects.requireNonNull(snapshot, "snapshot");
        Objects.requireNonNull(output, "output");
        Objects.requireNonNull(format, "format");
        onto = onto == null ? Optional.empty() : onto;
    }

    public RestoreRequest(SnapshotManifest snapshot, Path output, RestoreFormat format, Optional<Path> onto) {
        this(snapshot, output, format, onto, false);
    }

    public static RestoreRequest of(SnapshotManifest snapshot, Path output, RestoreFormat format) {
        return new RestoreRequest(snapshot, output, format, Optional.empty(), false);
    }
}
