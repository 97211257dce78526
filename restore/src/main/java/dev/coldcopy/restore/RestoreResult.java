package dev.coldcopy.restore;

import dev.coldcopy.repository.SnapshotId;
import java.nio.file.Path;
import java.time.Duration;

/** What a restore did. */
public record RestoreResult(SnapshotId snapshot, Path output, RestoreFormat format, long bytesWritten, long bytesZeroed,
                            int chunksRead, Duration duration) {
}
