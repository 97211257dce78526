package dev.coldcopy.repository.lifecycle;

import dev.coldcopy.repository.ChunkAddress;
import dev.coldcopy.repository.ExtentMap;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.repository.vm.FileChunk;
import dev.coldcopy.repository.vm.HostFile;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The mark phase: which chunks the snapshots (and the host files of VM backups) use, and which bytes of
 * each. A packed chunk holds ranges of several disk areas; it stays while any extent points into it, and the bytes no extent points at
 * are reported as held by partly used chunks (coldcopy does not repack them).
 */
final class ChunkUsage {
    /** per chunk: its plaintext length and the [start, end) ranges of it that extents read */
    private final Map<ChunkAddress, Usage> chunks = new HashMap<>();

    private static final class Usage {
        final int length;
        final List<long[]> ranges = new ArrayList<>();

        Usage(int length) {
            this.length = length;
        }
    }

    synchronized void add(SnapshotManifest manifest) {
        ExtentMap map = manifest.extents();
        List<ExtentMap.ChunkRef> refs = map.chunks();
        for (int i = 0; i < map.size(); i++) {
            int c = map.chunkIndex(i);
            if (c < 0) {
                continue;
            }
            ExtentMap.ChunkRef ref = refs.get(c);
            long start = map.get(i).chunkOffset();
            chunks.computeIfAbsent(ref.address(), a -> new Usage(ref.length())).ranges.add(new long[] {start, start + map.get(i).length()});
        }
    }

    /** a host file of a VM backup: each of its chunks is read whole */
    synchronized void addFile(HostFile file) {
        for (FileChunk c : file.chunks()) {
            chunks.computeIfAbsent(c.address(), a -> new Usage(c.length())).ranges.add(new long[] {0, c.length()});
        }
    }

    Set<ChunkAddress> referenced() {
        return chunks.keySet();
    }

    /** used chunks with bytes that no extent reads, and how many such bytes (plaintext) */
    record Slack(long chunks, long bytes) {
    }

    Slack slack() {
        long n = 0;
        long bytes = 0;
        for (Usage u : chunks.values()) {
            u.ranges.sort((a, b) -> Long.compare(a[0], b[0]));
            long covered = 0;
            long end = 0;
            for (long[] r : u.ranges) {
                long s = Math.max(r[0], end);
                if (r[1] > s) {
                    covered += r[1] - s;
                    end = r[1];
                }
            }
            if (covered < u.length) {
                n++;
                bytes += u.length - covered;
            }
        }
        return new Slack(n, bytes);
    }
}
