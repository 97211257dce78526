package dev.coldcopy.serve.bench;

import dev.coldcopy.process.ProcessResult;
import dev.coldcopy.process.ProcessRunner;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.repository.testing.ImageBackup;
import dev.coldcopy.repository.testing.S3ProxyServer;
import dev.coldcopy.restore.RestoreFormat;
import dev.coldcopy.restore.RestoreRequest;
import dev.coldcopy.restore.Restorer;
import dev.coldcopy.serve.ChunkCache;
import dev.coldcopy.serve.NbdServer;
import dev.coldcopy.serve.ServeAddress;
import dev.coldcopy.serve.ServedExport;
import dev.coldcopy.nbd.protocol.NbdClient;
import dev.coldcopy.nbd.protocol.NbdClientOptions;
import dev.coldcopy.nbd.protocol.NbdUri;
import java.nio.file.Files;
import java.util.concurrent.CompletableFuture;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Restore to qcow2 two ways, in one JVM, alternating: the current {@link Restorer} (verify, then write
 * through qemu-nbd with our NBD client) and serving the snapshot on a private socket with
 * {@code qemu-img convert} writing the qcow2. Prints each run's wall time and the medians.
 *
 * <pre>  ServeRestoreBench IMAGE.qcow2 WORK-DIR [RUNS]</pre>
 *
 * With {@code -Dmode=random}: random 4 KiB reads through the server with coldcopy's NBD client (16 in
 * flight, one connection), over the whole disk (more chunks than the cache holds) and over the first
 * 128 MiB (all cached after the first pass).
 *
 * With {@code -Dmode=first-byte}: the image backed up into a repository on s3proxy (a separate process),
 * then, per run, the time from opening the repository to the end of a 4 KiB read by qemu-io at offset 0
 * (the repository opened, the latest snapshot found and loaded, the server started, qemu-io started).
 */
public final class ServeRestoreBench {
    public static void main(String[] args) throws Exception {
        Path image = Path.of(args[0]);
        Path work = Files.createDirectories(Path.of(args[1]));
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        if ("first-byte".equals(System.getProperty("mode"))) {
            firstByte(image, work, runs);
            return;
        }
        Path repoDir = work.resolve("repo");
        boolean fresh = !Files.exists(repoDir);
        RepositoryOptions options = RepositoryOptions.builder().build();
        try (Repository repo = fresh ? Repository.init(RepositoryUri.parse("file:" + repoDir), options)
                : Repository.open(RepositoryUri.parse("file:" + repoDir), options)) {
            SnapshotManifest m = fresh ? repo.load(ImageBackup.full(repo, image, "bench", "vda")) : repo.latest("bench", "vda").orElseThrow();
            if ("random".equals(System.getProperty("mode"))) {
                random(repo, m, work);
                return;
            }
            List<Double> restorer = new ArrayList<>();
            List<Double> served = new ArrayList<>();
            for (int run = 0; run < runs; run++) {
                for (int side = 0; side < 2; side++) {
                    boolean serveFirst = run % 2 == 1;
                    boolean useServe = (side == 0) == serveFirst;
                    Path out = work.resolve("out.qcow2");
                    Files.deleteIfExists(out);
                    long t0 = System.nanoTime();
                    if (useServe) {
                        Path socket = work.resolve("s.sock");
                        Files.deleteIfExists(socket);
                        try (NbdServer server = NbdServer.start(ServedExport.of(m, new ChunkCache(repo, 256L << 20, Integer.getInteger("readahead", 2))), new ServeAddress.Unix(socket))) {
                            ProcessResult r = ProcessRunner.run(List.of("qemu-img", "convert", "-f", "raw", "-O", "qcow2", "-W", "-m", "8",
                                    server.uri(), out.toString()), Duration.ofMinutes(10));
                            if (r.exitCode() != 0) {
                                throw new IllegalStateException(r.stderrOneLine());
                            }
                        }
                    } else {
                        new Restorer(repo).restore(RestoreRequest.of(m, out, RestoreFormat.QCOW2));
                    }
                    double s = (System.nanoTime() - t0) / 1e9;
                    (useServe ? served : restorer).add(s);
                    ProcessResult cmp = ProcessRunner.run(List.of("qemu-img", "compare", "-q", image.toString(), out.toString()), Duration.ofMinutes(5));
                    System.out.printf("run %d %-8s %.2f s %s%n", run + 1, useServe ? "serve" : "restorer", s, cmp.exitCode() == 0 ? "identical" : "DIFFERENT");
                }
            }
            System.out.printf("median restorer %.2f s, serve+qemu-img convert %.2f s%n", median(restorer), median(served));
        }
    }

    static void random(Repository repo, SnapshotManifest m, Path work) throws Exception {
        Path socket = work.resolve("r.sock");
        Files.deleteIfExists(socket);
        try (ChunkCache cache = new ChunkCache(repo, 256L << 20, Integer.getInteger("readahead", 2));
             NbdServer server = NbdServer.start(ServedExport.of(m, cache), new ServeAddress.Unix(socket));
             NbdClient client = NbdClient.connect(NbdUri.parse(server.uri()), NbdClientOptions.builder().build())) {
            java.util.Random r = new java.util.Random(1);
            for (String pass : List.of("whole disk, cold", "whole disk, again", "first 128 MiB, cold", "first 128 MiB, warm")) {
                long span = pass.startsWith("whole") ? m.virtualSize() : 128L << 20;
                int reads = 8192;
                long t0 = System.nanoTime();
                long misses0 = cache.misses();
                java.util.ArrayDeque<CompletableFuture<Void>> inFlight = new java.util.ArrayDeque<>();
                for (int i = 0; i < reads; i++) {
                    if (inFlight.size() == 16) {
                        inFlight.poll().get();
                    }
                    long off = (long) (r.nextDouble() * (span / 4096)) * 4096;
                    inFlight.add(client.readAsync(off, java.nio.ByteBuffer.allocate(4096)));
                }
                for (CompletableFuture<Void> f : inFlight) {
                    f.get();
                }
                double s = (System.nanoTime() - t0) / 1e9;
                System.out.printf("random 4 KiB reads, %-20s %6.0f reads/s (%.1f MiB/s), %d chunk fetches%n", pass + ":", reads / s,
                        reads * 4096 / s / (1 << 20), cache.misses() - misses0);
            }
        }
    }

    static void firstByte(Path image, Path work, int runs) throws Exception {
        Path s3dir = work.resolve("s3");
        try (S3ProxyServer s3 = S3ProxyServer.start(Files.createDirectories(s3dir))) {
            s3.createBucket("bench");
            RepositoryOptions options = RepositoryOptions.builder().s3Credentials(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY).build();
            RepositoryUri uri = s3.repositoryUri("bench", "fb-" + System.nanoTime());
            try (Repository repo = Repository.init(uri, options)) {
                ImageBackup.full(repo, image, "bench", "vda");
            }
            List<Double> times = new ArrayList<>();
            for (int run = 0; run < runs; run++) {
                Path socket = work.resolve("fb.sock");
                Files.deleteIfExists(socket);
                long t0 = System.nanoTime();
                try (Repository repo = Repository.open(uri, options);
                     ChunkCache cache = new ChunkCache(repo, 256L << 20, 2);
                     NbdServer server = NbdServer.start(ServedExport.of(repo.latest("bench", "vda").orElseThrow(), cache),
                             new ServeAddress.Unix(socket))) {
                    ProcessResult r = ProcessRunner.run(List.of("qemu-io", "-r", "-f", "raw", server.uri(), "-c", "read 0 4k"), Duration.ofMinutes(1));
                    double s = (System.nanoTime() - t0) / 1e9;
                    if (r.exitCode() != 0 || !r.stdout().contains("read 4096/4096")) {
                        throw new IllegalStateException(r.stdout() + r.stderrOneLine());
                    }
                    times.add(s);
                    System.out.printf("run %d first byte after %.3f s%n", run + 1, s);
                }
            }
            System.out.printf("median time to first byte from s3proxy %.3f s%n", median(times));
        } finally {
            try (var files = Files.walk(s3dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        return s.get(s.size() / 2);
    }
}
