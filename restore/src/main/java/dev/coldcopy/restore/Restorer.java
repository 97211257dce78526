package dev.coldcopy.restore;

import dev.coldcopy.qemu.QemuTools;
import dev.coldcopy.repository.ExtentMap;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotKind;
import dev.coldcopy.repository.SnapshotManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
        check(request, output, what);
        long start = System.nanoTime();
        boolean done = false;
        PartialOutput partial = new PartialOutput(output);
        try {
            RestoreCounters counters = writeImage(request, output, partial);
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

    /** Refuses, before anything is written, a request that cannot end well. */
    private static void check(RestoreRequest request, Path output, String what) throws RestoreException {
        SnapshotManifest m = request.snapshot();
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
            checkBase(request.onto().get().toAbsolutePath(), output, m, what);
        }
    }

    private static void checkBase(Path base, Path output, SnapshotManifest m, String what) throws RestoreException {
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

    /** raw: a sparse file written directly; qcow2: created (or the base copied), then written through qemu-nbd */
    private RestoreCounters writeImage(RestoreRequest request, Path output, PartialOutput partial) throws IOException {
        prepare(request, output, request.format());
        try (DiskSink sink = partial.writingThrough(openSink(request, output))) {
            RestoreCounters counters = write(request.snapshot(), sink);
            sink.flush();
            return counters;
        }
    }

    private static DiskSink openSink(RestoreRequest request, Path output) throws IOException {
        return request.format() == RestoreFormat.RAW ? new RawFileSink(output, request.sync())
                : new QemuNbdSink(output, "qcow2", request.sync());
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

    /** writes the snapshot's ranges into the sink: zeroes first (a delta), then every chunk, each verified first */
    RestoreCounters write(SnapshotManifest m, DiskSink sink) throws IOException {
        RestoreCounters counters = new RestoreCounters();
        if (m.kind() == SnapshotKind.DELTA) {
            writeZeroRanges(m.extents(), sink, counters);
        }
        new ChunkPipeline(repository, m.extents(), sink, counters, parallelism).run();
        return counters;
    }

    /** Onto a base copy, the snapshot's ZERO ranges must overwrite what the base holds there. */
    private static void writeZeroRanges(ExtentMap map, DiskSink sink, RestoreCounters counters) throws IOException {
        for (int i = 0; i < map.size(); i++) {
            if (map.chunkIndex(i) < 0) {
                var e = map.get(i);
                sink.writeZeroes(e.offset(), e.length());
                counters.zeroed.addAndGet(e.length());
            }
        }
    }
}
