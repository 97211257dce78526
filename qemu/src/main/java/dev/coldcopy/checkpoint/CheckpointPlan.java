package dev.coldcopy.checkpoint;

import java.time.Clock;
import java.util.List;
import java.util.Optional;

import dev.coldcopy.qemu.BackingChain;
import dev.coldcopy.qemu.Bitmap;
import dev.coldcopy.qemu.ImageLayer;

/**
 * The checkpoint bitmaps one backup works with: the base whose copies in the chain are merged into the
 * export's dirty bitmap (none: the export carries every allocated block), and the next checkpoint added to
 * the top image for the backup after this one. Which base to use, and why, is the backup planner's decision;
 * this is what the export and the checkpoint rotation need of it.
 *
 * @param baseBitmap     the checkpoint the export's dirty bitmap is built from (empty: no dirty bitmap)
 * @param baseLayers     the layers holding {@code baseBitmap}, top first (their bitmaps are merged); empty without
 * @param granularity    granularity for the merged bitmap and the next checkpoint (the top copy's), 0 for qemu's default
 * @param nextCheckpoint the bitmap to add to the top image now (empty when the top image cannot hold one: raw)
 * @param repositoryId   whose checkpoint chain this is (its older checkpoints go once the backup commits)
 */
public record CheckpointPlan(Optional<String> baseBitmap, List<ImageLayer> baseLayers, long granularity,
        Optional<String> nextCheckpoint, String repositoryId) {

    public CheckpointPlan {
        baseLayers = List.copyOf(baseLayers);
        CheckpointNames.checkRepositoryId(repositoryId);
    }

    /** No base: every allocated block is exported; the next checkpoint starts a new chain. */
    public static CheckpointPlan full(BackingChain chain, String repositoryId, Clock clock) {
        return new CheckpointPlan(Optional.empty(), List.of(), 0, next(chain, repositoryId, clock), repositoryId);
    }

    /**
     * The blocks changed since {@code base}, merged over every layer that holds it.
     *
     * @throws IllegalArgumentException the base fails the checkpoint rules ({@link BitmapValidation}); the
     *                                  planner asks those first and plans a full instead
     */
    public static CheckpointPlan since(BackingChain chain, String repositoryId, String base, Clock clock) {
        BitmapValidation validation = BitmapValidation.of(chain, base);
        if (!validation.valid()) {
            throw new IllegalArgumentException(validation.problem().get());
        }
        long granularity = chain.top().bitmap(base).map(Bitmap::granularity).orElse(0L);
        return new CheckpointPlan(Optional.of(base), validation.layers(), granularity, next(chain, repositoryId, clock),
                repositoryId);
    }

    /** A new coldcopy checkpoint name for a qcow2 top image; none for raw (it cannot carry bitmaps). */
    private static Optional<String> next(BackingChain chain, String repositoryId, Clock clock) {
        return chain.top().isQcow2()
                ? Optional.of(CheckpointNames.next(CheckpointNames.checkRepositoryId(repositoryId), clock,
                        chain.top().bitmaps().stream().map(Bitmap::name).toList()))
                : Optional.empty();
    }

    /** For log lines: what the export serves. */
    public String describe() {
        return baseBitmap.map(b -> "changes since " + b).orElse("every allocated block");
    }
}
