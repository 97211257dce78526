package dev.coldcopy.restore;

import dev.coldcopy.qemu.QemuTools;
import dev.coldcopy.repository.ChunkAddress;
import dev.coldcopy.repository.ExtentMap;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotKind;
import dev.coldcopy.repository.SnapshotManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Restores a snapshot to a new raw or qcow2 image. Every chunk is verified (checksum, decryption,
 * decompression, hash == address) before any of its bytes are written; chunks are fetched on a bounded
 * pool. Any failure removes the partial output and reports one line naming the chunk. A DELTA applies
 * to a copy of its base image ({@code onto}), which is never modified.
 */
public final class Restorer {
    private static final Logger LOG = LoggerFactory.getLogger(Restorer.class);
    private static final AtomicInteger THREADS = new AtomicInteger();
    private static final QemuTools QEMU = QemuTools.defaults();
    /** Copying a whole base image may take as long as the disk is large. */
    private static final QemuTools QEMU_COPY = QEMU.withTimeout(Duration.ofHours(12));

    private final Repository repository;
    private final int parallelism;

    public Restorer(Repository repository) {
        this(repository, repository.options().parallelism());
    }

    public Restorer(Repository repository, int parallelism) {
        this.repository = repository;
        this.parallelism = Math.max(1, parallelism);
    }

    public RestoreResult restore(RestoreRequest request) throws IOException {
        SnapshotManifest m = request.snapshot();
        Path output = request.output().toAbsolutePath();
        String what = "restore of snapshot " + m.id() + " (" + m.vm() + "/" + m.disk() + ")";
        if (m.kind() == SnapshotKind.DELTA && request.onto().isEmpty()) {
            throw new RestoreException(what + ": it is a delta since checkpoint '" + m.header().checkpointUsed()
                    + "' and restores only onto a base image (--onto BASE)");
        }
        if (m.kind() != SnapshotKind.DELTA && request.onto().isPresent()) {
            throw new RestoreException(what + ": --onto applies to delta snapshots only; this one is " + m.kind().label() + " and restores on its own");
        }
        if (Files.exists(output, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new RestoreException(what + ": output " + output + " exists; refusing to overwrite it");
        }
        if (request.onto().isPresent()) {
            Path base = request.onto().get().toAbsolutePath();
            if (!Files.isRegularFile(base)) {
                throw new RestoreException(what + ": base image " + base + " does not exist");
            }
            if (base.equals(output)) {
                throw new RestoreException(what + ": the output must not be the base image itself");
            }
            long size = QEMU.virtualSize(base);
            if (size != m.virtualSize()) {
                throw new RestoreException(what + ": base image " + base + " is " + size + " bytes, the snapshot's disk " + m.virtualSize());
            }
        }
        long start = System.nanoTime();
        boolean done = false;
        PartialOutput partial = new PartialOutput(output);
        try {
            Counters counters;
            if (request.format() == RestoreFormat.RAW) {
                prepare(request, output, RestoreFormat.RAW);
                try (RawFileSink sink = partial.writingThrough(new RawFileSink(output, request.sync()))) {
                    counters = write(m, sink);
                    sink.flush();
                }
            } else {
                // qcow2: create it (or copy the base into it), then write through qemu-nbd with the NBD client
                prepare(request, output, RestoreFormat.QCOW2);
                try (QemuNbdSink sink = partial.writingThrough(new QemuNbdSink(output, "qcow2", request.sync()))) {
                    counters = write(m, sink);
                    sink.flush();
                }
            }
            done = true;
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            LOG.info("restored snapshot {} to {} ({} bytes from {} chunks in {} ms)", m.id(), output, counters.bytes.get(),
                    counters.chunks.get(), took.toMillis());
            return new RestoreResult(m.id(), output, request.format(), counters.bytes.get(), counters.zeroed.get(),
                    counters.chunks.get(), took);
        } catch (RestoreException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new RestoreException(what + " failed: " + e.getMessage(), e);
        } finally {
            partial.finished();
            if (!done) {
                Files.deleteIfExists(output);
            }
        }
    }

    private void prepare(RestoreRequest request, Path target, RestoreFormat format) throws IOException {
        if (request.onto().isPresent()) {
            QEMU_COPY.convert(request.onto().get(), target, format.qemuName());
        } else if (format == RestoreFormat.RAW) {
            Files.createFile(target);
            // a sparse file of the disk's size: ranges never written read as zero
            try (var f = new java.io.RandomAccessFile(target.toFile(), "rw")) {
                f.setLength(request.snapshot().virtualSize());
            }
        } else {
            QEMU.create(target, format.qemuName(), request.snapshot().virtualSize());
        }
    }

    static final class Counters {
        final AtomicLong bytes = new AtomicLong();
        final AtomicLong zeroed = new AtomicLong();
        final AtomicInteger chunks = new AtomicInteger();
    }

    /** writes the snapshot's ranges into the sink: chunk by chunk in parallel, each verified first */
    Counters write(SnapshotManifest m, DiskSink sink) throws IOException {
        ExtentMap map = m.extents();
        Counters counters = new Counters();
        if (m.kind() == SnapshotKind.DELTA) {
            // onto a base copy, ZERO ranges must overwrite what the base holds there
            for (int i = 0; i < map.size(); i++) {
                if (map.chunkIndex(i) < 0) {
                    var e = map.get(i);
                    sink.writeZeroes(e.offset(), e.length());
                    counters.zeroed.addAndGet(e.length());
                }
            }
        }
        // extents grouped by chunk (compressed sparse rows): each chunk is fetched once
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
        ExecutorService pool = Executors.newFixedThreadPool(parallelism, r -> {
            Thread t = new Thread(r, "coldcopy-restore-" + THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        // chunks in flight: verified ones waiting for their writes count too (memory: slots x chunk size)
        int slots = parallelism * 4;
        Semaphore inFlight = new Semaphore(slots);
        AtomicReference<IOException> failure = new AtomicReference<>();
        try {
            for (int c = 0; c < chunkCount && failure.get() == null; c++) {
                inFlight.acquire();
                if (failure.get() != null) {
                    inFlight.release();
                    break;
                }
                int chunk = c;
                pool.execute(() -> {
                    // verify on this thread; the writes complete asynchronously and release the slot
                    List<CompletableFuture<Void>> writes = new ArrayList<>();
                    try {
                        ExtentMap.ChunkRef ref = map.chunks().get(chunk);
                        ChunkAddress address = ref.address();
                        byte[] plain = repository.readChunk(address);
                        if (plain.length != ref.length()) {
                            throw new IOException("chunk " + address + ": holds " + plain.length + " bytes, the manifest expects " + ref.length());
                        }
                        for (int k = first[chunk]; k < first[chunk + 1]; k++) {
                            var e = map.get(entries[k]);
                            writes.add(sink.writeAsync(e.offset(), plain, e.chunkOffset(), (int) e.length()));
                            counters.bytes.addAndGet(e.length());
                        }
                        counters.chunks.incrementAndGet();
                    } catch (IOException e) {
                        failure.compareAndSet(null, e);
                    } catch (RuntimeException e) {
                        failure.compareAndSet(null, new IOException(e.toString(), e));
                    }
                    CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).whenComplete((v, t) -> {
                        if (t != null) {
                            Throwable cause = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
                            failure.compareAndSet(null, cause instanceof IOException io ? io : new IOException(cause.toString(), cause));
                        }
                        inFlight.release();
                    });
                });
            }
            // wait for every slot to come back: all chunks verified and written
            inFlight.acquire(slots);
            inFlight.release(slots);
            pool.shutdown();
            if (!pool.awaitTermination(12, TimeUnit.HOURS)) {
                throw new IOException("restore did not finish");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        } finally {
            pool.shutdownNow();
        }
        if (failure.get() != null) {
            throw failure.get();
        }
        return counters;
    }

    /** every chunk a list of manifests references, once */
    static List<ChunkAddress> chunksOf(List<SnapshotManifest> manifests) {
        List<ChunkAddress> out = new ArrayList<>();
        java.util.Set<ChunkAddress> seen = new java.util.HashSet<>();
        for (SnapshotManifest m : manifests) {
            for (ExtentMap.ChunkRef r : m.extents().chunks()) {
                if (seen.add(r.address())) {
                    out.add(r.address());
                }
            }
        }
        return out;
    }
}
