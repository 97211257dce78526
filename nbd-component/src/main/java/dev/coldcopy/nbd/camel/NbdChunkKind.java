package dev.coldcopy.nbd.camel;

/** What a chunk holds. */
public enum NbdChunkKind {
    /** Bytes read from the export; the body holds them. */
    DATA,
    /** A range that reads as zeroes; nothing was read and the body is null. */
    ZERO,
    /**
     * Emitted once, alone, by a consumer pass that found nothing to read (e.g. no dirty range), so
     * that a route still sees a last chunk and can commit; offset 0, length 0, body null.
     */
    NONE
}
