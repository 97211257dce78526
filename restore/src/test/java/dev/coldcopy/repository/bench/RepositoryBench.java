package dev.coldcopy.repository.bench;

import dev.coldcopy.nbd.protocol.Extent;
import dev.coldcopy.nbd.protocol.NbdClient;
import dev.coldcopy.nbd.protocol.NbdClientOptions;
import dev.coldcopy.nbd.protocol.NbdUri;
import dev.coldcopy.repository.BackupStatistics;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.SnapshotHeader;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.SnapshotKind;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.repository.SnapshotWriter;
import dev.coldcopy.restore.RestoreFormat;
import dev.coldcopy.restore.RestoreRequest;
import dev.coldcopy.restore.RestoreResult;
import dev.coldcopy.restore.Restorer;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The repository benchmark's two sides (bench/repository):
 * <pre>
 *   backup NBD-URI REPO-DIR [ZSTD-LEVEL]   full backup of every allocated extent of an NBD export into a new file repository
 *   restore REPO-DIR OUTPUT.qcow2          restore the repository's only snapshot to a new qcow2
 * </pre>
 * The backup reads like the service will: base:allocation extents, zero extents recorded not read,
 * data read in chunk-aligned 4 MiB pieces with several pieces (64 requests of 256 KiB) in flight.
 */
public final class RepositoryBench {
    private static final int PIECE = 4 * 1024 * 1024;
    private static final int DEPTH = 8;

    private static final Deque<ByteBuffer> FREE = new ArrayDeque<>();

    private record Piece(long offset, int length, ByteBuffer buffer, CompletableFuture<Void> done) {
    }

    public static void main(String[] args) throws Exception {
        if (args.length >= 3 && args[0].equals("backup")) {
            backup(NbdUri.parse(args[1]), Path.of(args[2]), args.length > 3 ? Integer.parseInt(args[3]) : RepositoryOptions.DEFAULT_ZSTD_LEVEL);
        } else if (args.length == 3 && args[0].equals("restore")) {
            restore(Path.of(args[1]), Path.of(args[2]));
        } else {
            System.err.println("usage: RepositoryBench backup NBD-URI REPO-DIR [ZSTD-LEVEL] | restore REPO-DIR OUTPUT.qcow2");
            System.exit(2);
        }
    }

    static void backup(NbdUri uri, Path repoDir, int level) throws Exception {
        long t0 = System.nanoTime();
        NbdClientOptions nbdOptions = NbdClientOptions.builder().metaContexts("base:allocation").connections(4).build();
        RepositoryOptions options = RepositoryOptions.builder().zstdLevel(level).build();
        try (NbdClient nbd = NbdClient.connect(uri, nbdOptions);
             Repository repo = Repository.init(RepositoryUri.file(repoDir), options)) {
            long size = nbd.size();
            List<Extent> extents = nbd.blockStatus("base:allocation", 0, size);
            SnapshotHeader header = new SnapshotHeader("bench", "vda", uri.toString(), size, SnapshotKind.FULL, "benchmark", null, null);
            long read = 0;
            try (SnapshotWriter w = repo.newSnapshot(header, Optional.empty())) {
                Deque<Piece> inFlight = new ArrayDeque<>();
                for (Extent e : extents) {
                    if ((e.flags() & 2) != 0) { // NBD_STATE_ZERO: record, do not read
                        drain(inFlight, w, 0);
                        w.putZero(e.offset(), e.length());
                        continue;
                    }
                    long pos = e.offset();
                    while (pos < e.end()) {
                        long next = Math.min(e.end(), (pos / PIECE + 1) * PIECE);
                        ByteBuffer b = FREE.isEmpty() ? ByteBuffer.allocate(PIECE) : FREE.pop();
                        b.clear().limit((int) (next - pos));
                        inFlight.add(new Piece(pos, (int) (next - pos), b, nbd.readAsync(pos, b)));
                        read += next - pos;
                        pos = next;
                        drain(inFlight, w, DEPTH);
                    }
                }
                drain(inFlight, w, 0);
                SnapshotId id = w.commit(BackupStatistics.read(read, Duration.ofNanos(System.nanoTime() - t0)));
                BackupStatistics s = repo.load(id).statistics();
                System.out.printf("backup %s: read %d MiB, stored %d MiB, %d chunks new, %d reused, %.2f s%n", id,
                        s.bytesRead() >> 20, s.bytesStored() >> 20, s.chunksNew(), s.chunksReused(), (System.nanoTime() - t0) / 1e9);
            }
        }
    }

    /** hands completed pieces to the writer in order until at most {@code keep} are in flight */
    private static void drain(Deque<Piece> inFlight, SnapshotWriter w, int keep) throws Exception {
        while (inFlight.size() > keep) {
            Piece p = inFlight.poll();
            p.done().get();
            p.buffer().position(0).limit(p.length());
            w.putData(p.offset(), p.buffer());
            FREE.push(p.buffer());
        }
    }

    static void restore(Path repoDir, Path output) throws Exception {
        long t0 = System.nanoTime();
        try (Repository repo = Repository.open(RepositoryUri.file(repoDir), RepositoryOptions.defaults())) {
            SnapshotManifest m = repo.latest("bench", "vda").orElseThrow();
            RestoreResult r = new Restorer(repo).restore(RestoreRequest.of(m, output, RestoreFormat.QCOW2));
            System.out.printf("restore %s: %d MiB from %d chunks, %.2f s%n", m.id(), r.bytesWritten() >> 20, r.chunksRead(),
                    (System.nanoTime() - t0) / 1e9);
        }
    }
}
