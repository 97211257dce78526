package dev.coldcopy.restore;

import dev.coldcopy.repository.ExtentMap;
import java.util.Arrays;

/**
 * The data extents of a snapshot grouped by the chunk they read from, so that each chunk is fetched once
 * however many extents share it. Compressed sparse rows: chunk c's extents are
 * {@code entries[first[c] .. first[c + 1])}, two int arrays whatever the size of the disk.
 */
final class ChunkExtents {
    private final int[] first;
    private final int[] entries;

    private ChunkExtents(int[] first, int[] entries) {
        this.first = first;
        this.entries = entries;
    }

    static ChunkExtents of(ExtentMap map) {
        int chunkCount = map.chunks().size();
        int[] first = new int[chunkCount + 1];
        for (int i = 0; i < map.size(); i++) {
            int c = map.chunkIndex(i);
            if (c >= 0) {
                first[c + 1]++;
            }
        }
        for (int c = 0; c < chunkCount; c++) {
            first[c + 1] += first[c];
        }
        int[] entries = new int[first[chunkCount]];
        int[] fill = first.clone();
        for (int i = 0; i < map.size(); i++) {
            int c = map.chunkIndex(i);
            if (c >= 0) {
                entries[fill[c]++] = i;
            }
        }
        return new ChunkExtents(first, entries);
    }

    int chunkCount() {
        return first.length - 1;
    }

    /** The map indexes of the extents that read from {@code chunk}. */
    int[] extentsOf(int chunk) {
        return Arrays.copyOfRange(entries, first[chunk], first[chunk + 1]);
    }
}
