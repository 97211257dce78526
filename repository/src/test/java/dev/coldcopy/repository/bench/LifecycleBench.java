package dev.coldcopy.repository.bench;

import dev.coldcopy.repository.BackupStatistics;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.SnapshotHeader;
import dev.coldcopy.repository.SnapshotKind;
import dev.coldcopy.repository.SnapshotWriter;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Optional;

/**
 * Fills a repository for bench/lifecycle:
 * <pre>
 *   populate REPO-URI SNAPSHOTS CHUNKS [VMS]   SNAPSHOTS snapshots over VMS VMs x 2 disks, CHUNKS chunks in all
 * </pre>
 * Each snapshot is a full of its own CHUNKS/SNAPSHOTS 64 KiB chunks (small, compressible: the bench
 * measures the bookkeeping of prune and listing, not compression). S3 credentials come from
 * AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.
 */
public final class LifecycleBench {
    private static final int WINDOW = 64 * 1024;

    private LifecycleBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 4 || !args[0].equals("populate")) {
            System.err.println("usage: LifecycleBench populate REPO-URI SNAPSHOTS CHUNKS [VMS]");
            System.exit(2);
        }
        RepositoryUri uri = RepositoryUri.parse(args[1]);
        int snapshots = Integer.parseInt(args[2]);
        int chunks = Integer.parseInt(args[3]);
        int vms = args.length > 4 ? Integer.parseInt(args[4]) : 10;
        int perSnapshot = Math.max(1, chunks / snapshots);
        long t0 = System.nanoTime();
        RepositoryOptions options = RepositoryOptions.builder().chunkSize(WINDOW).durableWrites(false).parallelism(4).build();
        try (Repository repo = Repository.init(uri, options)) {
            byte[] window = new byte[WINDOW];
            for (int s = 0; s < snapshots; s++) {
                String vm = "vm" + (s % vms);
                String disk = (s / vms) % 2 == 0 ? "vda" : "vdb";
                SnapshotHeader header = new SnapshotHeader(vm, disk, "/images/" + vm + "-" + disk, (long) perSnapshot * WINDOW,
                        SnapshotKind.FULL, "bench", null, null);
                try (SnapshotWriter w = repo.newSnapshot(header, Optional.empty())) {
                    for (int i = 0; i < perSnapshot; i++) {
                        ByteBuffer.wrap(window).putLong(0x5EED5EEDL).putInt(s).putInt(i);
                        w.putData((long) i * WINDOW, window, WINDOW);
                    }
                    w.commit(BackupStatistics.read((long) perSnapshot * WINDOW, Duration.ofMillis(1)));
                }
                if ((s + 1) % 100 == 0) {
                    System.err.printf("populated %d snapshots in %.1f s%n", s + 1, (System.nanoTime() - t0) / 1e9);
                }
            }
        }
        System.out.printf("populated %d snapshots, %d chunks in %.1f s%n", snapshots, (long) snapshots * perSnapshot, (System.nanoTime() - t0) / 1e9);
    }
}
