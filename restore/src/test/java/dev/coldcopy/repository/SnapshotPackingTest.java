package dev.coldcopy.repository;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.repository.testing.ImageBackup;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.restore.RestoreFormat;
import dev.coldcopy.restore.RestoreRequest;
import dev.coldcopy.restore.Restorer;
import dev.coldcopy.repository.verify.Verifier;
import dev.coldcopy.repository.verify.VerifyResult;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import dev.coldcopy.repository.testing.StartedCamel;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Small scattered ranges share chunks (SnapshotWriter packs them), and everything that reads a manifest
 * copes with several extents per chunk: restore (raw, qcow2, a delta onto a base), an incremental that
 * splits the packed extents of its parent, verify. Long data runs still take window-aligned chunks, so
 * fulls of the same disk share them.
 */
class SnapshotPackingTest {
    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;
    private static final long DISK = 1024 * MIB;
    private static final int CHUNK = (int) MIB;

    @TempDir
    Path work;
    @RegisterExtension
    final StartedCamel camel = new StartedCamel();
    /** the virtual disk's size: 1 GiB, less where many restores are hashed */
    private long disk = DISK;

    /** a DATA range put with its bytes; zero == true puts it as a ZERO range */
    private record Put(long offset, byte[] data, boolean zero) {
        long end() {
            return offset + data.length;
        }
    }


    private Repository initRepository() throws IOException {
        return Repository.init(RepositoryUri.file(work.resolve("repo")),
                RepositoryOptions.builder().camelContext(camel.context()).chunkSize(CHUNK).parallelism(2).build());
    }

    @Test
    void scatteredSmallRangesShareChunksAndRestoreByteIdentical() throws Exception {
        List<Put> puts = scattered(new Random(42), 2000, List.of(), disk);
        long total = puts.stream().mapToLong(p -> p.data().length).sum();
        Path reference = work.resolve("reference.raw");
        createSparse(reference);
        apply(reference, puts);
        String expected = sha256(reference);
        try (Repository repo = initRepository()) {
            SnapshotWriter w = repo.newSnapshot(header(SnapshotKind.FULL, null), Optional.empty());
            SnapshotManifest m = repo.load(write(w, puts));
            BackupStatistics s = m.statistics();
            // a chunk is stored when the next piece (at most 64 KiB) does not fit, or at a long run's window boundary
            long bound = total / (CHUNK - 64 * KIB) + 1 + runBoundaries(puts);
            System.out.printf("packed: %d ranges, %d bytes -> %d chunks (bound %d, %d bytes per chunk), %d extents, %d stored bytes%n",
                    puts.size(), total, s.chunksNew(), bound, total / Math.max(1, s.chunksNew()), m.extents().size(), s.bytesStored());
            // unpacked, every range would take its own chunk: 2,000
            assertThat(s.chunksNew()).as("chunks for %d bytes in %d ranges", total, puts.size())
                    .isLessThanOrEqualTo(bound).isGreaterThanOrEqualTo((total + CHUNK - 1) / CHUNK);
            assertThat(s.chunksReused()).isZero();
            assertThat(s.bytesNew()).as("packed chunks hold exactly the data put").isEqualTo(total);
            assertThat(m.extents().chunks()).hasSize((int) s.chunksNew());
            assertThat(m.extents().dataBytes()).isEqualTo(total);
            assertThat(chunkFiles()).as("chunk objects in the repository").isEqualTo(s.chunksNew());
            assertThat(m.extents().extents()).as("some extents start inside their chunk")
                    .anyMatch(e -> e.isData() && e.chunkOffset() > 0);

            Path out = restore(repo, m, RestoreFormat.RAW, Optional.empty());
            assertThat(sha256(out)).as("restored raw image").isEqualTo(expected);
            Files.delete(out);

            // the same ranges in another order pack differently, and restore the same
            List<Put> shuffled = new ArrayList<>(puts);
            Collections.shuffle(shuffled, new Random(7));
            SnapshotManifest m2 = repo.load(write(repo.newSnapshot(header(SnapshotKind.FULL, null), Optional.empty()), shuffled));
            assertThat(m2.statistics().chunksNew() + m2.statistics().chunksReused()).isLessThanOrEqualTo(bound);
            out = restore(repo, m2, RestoreFormat.RAW, Optional.empty());
            assertThat(sha256(out)).as("restored raw image of the shuffled puts").isEqualTo(expected);
            Files.delete(out);

            // the same puts in the same order give the same chunks: nothing new is stored
            long before = chunkFiles();
            SnapshotManifest m3 = repo.load(write(repo.newSnapshot(header(SnapshotKind.FULL, null), Optional.empty()), puts));
            assertThat(m3.statistics().chunksNew()).isZero();
            assertThat(m3.statistics().chunksReused()).isEqualTo(s.chunksNew());
            assertThat(chunkFiles()).isEqualTo(before);

            VerifyResult v = new Verifier(repo).verify(Optional.empty());
            assertThat(v.problems()).isEmpty();
            assertThat(v.snapshots()).isEqualTo(3);
        }
    }

    @Test
    void incrementalSplittingPackedExtentsAndDeltaOntoBaseRestore() throws Exception {
        disk = 256 * MIB;
        Random r = new Random(99);
        List<Put> full = scattered(r, 2000, List.of(), disk);
        Path v1 = work.resolve("v1.raw");
        createSparse(v1);
        apply(v1, full);
        String v1Hash = sha256(v1);

        // changes: 4 KiB in the middle of 300 packed extents (each splits in three), 8 KiB zeroed
        // at the start of 100 more, and 200 new ranges elsewhere
        List<Put> changes = new ArrayList<>();
        List<Put> candidates = new ArrayList<>(full.stream().filter(p -> p.data().length >= 16 * KIB).toList());
        Collections.shuffle(candidates, r);
        for (int i = 0; i < 400; i++) {
            Put p = candidates.get(i);
            if (i < 300) {
                changes.add(new Put(p.offset() + 4 * KIB, random(r, (int) (4 * KIB)), false));
            } else {
                changes.add(new Put(p.offset(), new byte[(int) (8 * KIB)], true));
            }
        }
        changes.addAll(scattered(r, 200, full, disk));
        changes.sort((a, b) -> Long.compare(a.offset(), b.offset()));
        Path v2 = work.resolve("v2.raw");
        QemuImages.convert(v1, v2, "raw");
        apply(v2, changes);
        String v2Hash = sha256(v2);
        assertThat(v2Hash).isNotEqualTo(v1Hash);

        try (Repository repo = initRepository()) {
            SnapshotManifest parent = repo.load(write(repo.newSnapshot(header(SnapshotKind.FULL, null), Optional.empty()), full));
            SnapshotManifest inc = repo.load(write(repo.newSnapshot(header(SnapshotKind.INCREMENTAL, "cp-1"), Optional.of(parent)), changes));
            System.out.printf("incremental over a packed full: %d changes -> %d new chunks; map %d extents over %d chunks%n",
                    changes.size(), inc.statistics().chunksNew(), inc.extents().size(), inc.extents().chunks().size());
            assertThat(inc.extents().size()).as("parent extents split by the changes").isGreaterThan(parent.extents().size() + 500);
            assertThat(inc.statistics().chunksNew()).isLessThan(20);

            Path out = restore(repo, inc, RestoreFormat.RAW, Optional.empty());
            assertThat(sha256(out)).as("incremental restored raw").isEqualTo(v2Hash);
            Files.delete(out);
            out = restore(repo, inc, RestoreFormat.QCOW2, Optional.empty());
            assertThat(QemuImages.identical(out, v2)).as("incremental restored as qcow2 (through qemu-nbd)").isTrue();
            Files.delete(out);
            out = restore(repo, parent, RestoreFormat.RAW, Optional.empty());
            assertThat(sha256(out)).as("the packed full still restores to the old state").isEqualTo(v1Hash);
            Files.delete(out);

            // the same changes as a delta (packed alone), applied to a copy of the old state
            SnapshotManifest delta = repo.load(write(repo.newSnapshot(header(SnapshotKind.DELTA, "libvirt-cp-1"), Optional.empty()), changes));
            out = restore(repo, delta, RestoreFormat.RAW, Optional.of(v1));
            assertThat(sha256(out)).as("delta restored onto the old state").isEqualTo(v2Hash);
            assertThat(sha256(v1)).as("the base is not changed").isEqualTo(v1Hash);
            Files.delete(out);

            assertThat(new Verifier(repo).verify(Optional.empty()).problems()).isEmpty();
        }
    }

    @Test
    void longRunsKeepWindowAlignedChunksSoFullsDeduplicate() throws Exception {
        Path image = QemuImages.createQcow2(work.resolve("disk.qcow2"), 64 * MIB);
        Random r = new Random(5);
        smallWrites(image, r, 30, 0, 3 * MIB);
        // a run starting inside a window, a text run on window boundaries, small writes after them
        QemuImages.writeRandom(image, 3 * MIB + 320 * KIB, (int) (10 * MIB), r);
        QemuImages.writeText(image, 20 * MIB, (int) (6 * MIB), r);
        smallWrites(image, r, 30, 40 * MIB, 24 * MIB);
        // whole windows inside the runs that are whole chunks: the random run comes in 1 MiB puts not
        // on window boundaries, so from its third window (5M..13M); the text run from its first (20M..26M)
        int alignedWindows = 8 + 6;
        try (Repository repo = initRepository()) {
            SnapshotManifest first = repo.load(ImageBackup.full(repo, image, "vm", "vda"));
            SnapshotManifest second = repo.load(ImageBackup.full(repo, image, "vm", "vda"));
            System.out.printf("fulls: first %d new chunks, second %d new %d reused%n", first.statistics().chunksNew(),
                    second.statistics().chunksNew(), second.statistics().chunksReused());
            assertThat(second.statistics().chunksNew()).as("the second full of an unchanged disk stores nothing").isZero();
            assertThat(second.statistics().bytesStored()).isZero();
            assertThat(second.statistics().chunksReused()).isEqualTo(first.statistics().chunksNew() + first.statistics().chunksReused());
            for (int w : new int[] {5, 6, 7, 8, 9, 10, 11, 12, 20, 21, 22, 23, 24, 25}) {
                long window = w * MIB;
                assertThat(first.extents().extents()).as("window at %d MiB is one whole chunk", w)
                        .anyMatch(e -> e.offset() <= window && e.end() >= window + MIB && e.chunkLength() == CHUNK
                                && e.chunkOffset() == window - e.offset());
            }

            // small changes elsewhere shift how the small ranges pack, not the runs' chunks
            smallWrites(image, r, 25, 0, 3 * MIB);
            smallWrites(image, r, 25, 40 * MIB, 24 * MIB);
            SnapshotManifest third = repo.load(ImageBackup.full(repo, image, "vm", "vda"));
            System.out.printf("full after small changes: %d new chunks (%d bytes), %d reused%n", third.statistics().chunksNew(),
                    third.statistics().bytesNew(), third.statistics().chunksReused());
            assertThat(third.statistics().chunksReused()).isGreaterThanOrEqualTo(alignedWindows);
            assertThat(third.statistics().bytesNew()).as("new bytes: the small ranges' chunks and the runs' ends")
                    .isLessThanOrEqualTo(3 * MIB + 24 * MIB - 16 * MIB + 4 * MIB);
            Path out = restore(repo, third, RestoreFormat.QCOW2, Optional.empty());
            assertThat(QemuImages.identical(out, image)).isTrue();
            Files.delete(out);
        }
    }

    @Test
    void longRunTakesTheSameWholeWindowChunksWhateverSmallRangesPrecedeIt() throws Exception {
        Random r = new Random(17);
        long runStart = 3 * MIB + 100 * KIB;
        byte[] run = random(r, (int) (9 * MIB));
        try (Repository repo = initRepository()) {
            // as the NBD reader puts it: pieces cut at window boundaries, then small ranges after it
            List<Put> a = new ArrayList<>(smallBefore(r, 12));
            a.addAll(cut(runStart, run, CHUNK));
            SnapshotManifest ma = repo.load(write(repo.newSnapshot(header(SnapshotKind.FULL, null), Optional.empty()), a));
            List<ChunkAddress> windowsA = wholeWindowChunks(ma, 4, 12);

            // other small ranges before it: the run's windows are the same chunks, stored once
            List<Put> b = new ArrayList<>(smallBefore(r, 20));
            b.addAll(cut(runStart, run, CHUNK));
            SnapshotManifest mb = repo.load(write(repo.newSnapshot(header(SnapshotKind.FULL, null), Optional.empty()), b));
            assertThat(wholeWindowChunks(mb, 4, 12)).isEqualTo(windowsA);
            assertThat(mb.statistics().chunksReused()).isGreaterThanOrEqualTo(8);

            // the run in 64 KiB puts: whole-window chunks from its third window on, the same ones
            List<Put> c = new ArrayList<>(smallBefore(r, 7));
            c.addAll(cut(runStart, run, (int) (64 * KIB)));
            SnapshotManifest mc = repo.load(write(repo.newSnapshot(header(SnapshotKind.FULL, null), Optional.empty()), c));
            assertThat(wholeWindowChunks(mc, 5, 12)).isEqualTo(windowsA.subList(1, windowsA.size()));
        }
    }

    @Test
    void chunkPerWindowKeepsAnUnchangedWindowsChunkWhateverChangesNextToIt() throws Exception {
        Random r = new Random(23);
        byte[] a = random(r, CHUNK / 2);
        byte[] b = random(r, CHUNK / 4);
        try (Repository repo = initRepository()) {
            // a raw disk read whole: half a window of data in window 0; then, next time, a quarter more in window 2
            List<Put> first = List.of(new Put(CHUNK / 4, a, false));
            SnapshotManifest m1 = repo.load(write(repo.newSnapshot(header(SnapshotKind.FULL, null), Optional.empty()).chunkPerWindow(), first));
            List<Put> second = List.of(new Put(CHUNK / 4, a, false), new Put(2L * CHUNK, b, false));
            SnapshotManifest packed = repo.load(write(repo.newSnapshot(header(SnapshotKind.FULL, null), Optional.empty()), second));
            assertThat(packed.statistics().chunksReused()).as("packing puts both ranges in one new chunk").isZero();
            SnapshotManifest m2 = repo.load(write(repo.newSnapshot(header(SnapshotKind.FULL, null), Optional.empty()).chunkPerWindow(), second));
            assertThat(m2.statistics().chunksReused()).as("window 0's chunk is the first backup's").isEqualTo(1);
            assertThat(m2.statistics().chunksNew()).isEqualTo(1);
            assertThat(m2.statistics().bytesNew()).isEqualTo(CHUNK / 4);
            assertThat(m1.extents().chunks()).hasSize(1);
        }
    }

    /** count small ranges in the first 3 MiB, ascending */
    private static List<Put> smallBefore(Random r, int count) {
        return scattered(r, count, List.of(), 3 * MIB);
    }

    /** the run as puts that never cross a multiple of size */
    private static List<Put> cut(long offset, byte[] data, int size) {
        List<Put> out = new ArrayList<>();
        long pos = offset;
        while (pos < offset + data.length) {
            long end = Math.min(offset + data.length, (pos / size + 1) * size);
            out.add(new Put(pos, java.util.Arrays.copyOfRange(data, (int) (pos - offset), (int) (end - offset)), false));
            pos = end;
        }
        return out;
    }

    /** the chunk of each window from MiB first to last (exclusive), asserting each is one whole chunk */
    private static List<ChunkAddress> wholeWindowChunks(SnapshotManifest m, int first, int last) {
        List<ChunkAddress> out = new ArrayList<>();
        for (int w = first; w < last; w++) {
            long window = w * MIB;
            SnapshotExtent e = m.extents().extents().stream().filter(x -> x.offset() <= window && x.end() > window).findFirst().orElseThrow();
            assertThat(e.offset()).as("window at %d MiB starts its extent", w).isEqualTo(window);
            assertThat(e.length()).as("window at %d MiB", w).isEqualTo(CHUNK);
            assertThat(e.chunkOffset()).as("window at %d MiB", w).isZero();
            assertThat(e.chunkLength()).as("window at %d MiB is a whole chunk", w).isEqualTo(CHUNK);
            out.add(e.chunk());
        }
        return out;
    }

    private static void smallWrites(Path image, Random r, int count, long from, long span) throws IOException {
        List<String> commands = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            long off = from + r.nextLong(span / (64 * KIB)) * 64 * KIB;
            commands.add("write -q -P 0x" + Integer.toHexString(1 + r.nextInt(254)) + " " + off + " " + (4 + r.nextInt(13)) * 4 * KIB);
        }
        QemuImages.io(image, commands.toArray(String[]::new));
    }

    /** count non-overlapping random ranges of 4-64 KiB, 4 KiB aligned, below disk, avoiding the ranges in avoid; ascending */
    private static List<Put> scattered(Random r, int count, List<Put> avoid, long disk) {
        TreeMap<Long, Long> taken = new TreeMap<>();
        for (Put p : avoid) {
            taken.put(p.offset(), p.end());
        }
        List<Put> out = new ArrayList<>();
        while (out.size() < count) {
            long length = (1 + r.nextInt(16)) * 4 * KIB;
            long off = r.nextLong((disk - length) / (4 * KIB)) * 4 * KIB;
            var below = taken.floorEntry(off + length - 1);
            if (below != null && below.getValue() > off) {
                continue;
            }
            taken.put(off, off + length);
            out.add(new Put(off, random(r, (int) length), false));
        }
        out.sort((a, b) -> Long.compare(a.offset(), b.offset()));
        return out;
    }

    private static byte[] random(Random r, int length) {
        byte[] b = new byte[length];
        // half random, half text-like: both incompressible and compressible chunks
        if (r.nextBoolean()) {
            r.nextBytes(b);
        } else {
            for (int i = 0; i < length; i++) {
                b[i] = (byte) ('a' + r.nextInt(4));
            }
        }
        return b;
    }

    /** window boundaries where a run covering a whole window goes on: the writer starts a chunk there */
    private static long runBoundaries(List<Put> puts) {
        long n = 0;
        long lastEnd = -1;
        long runStart = -1;
        for (Put p : puts) {
            runStart = p.offset() == lastEnd ? runStart : p.offset();
            for (long b = (p.offset() + CHUNK - 1) / CHUNK * CHUNK; b < p.end(); b += CHUNK) {
                if (b - runStart >= CHUNK && (b > p.offset() || p.offset() == lastEnd)) {
                    n++;
                }
            }
            lastEnd = p.end();
        }
        return n;
    }

    private static SnapshotId write(SnapshotWriter w, List<Put> puts) throws IOException {
        try (w) {
            for (Put p : puts) {
                if (p.zero()) {
                    w.putZero(p.offset(), p.data().length);
                } else {
                    w.putData(p.offset(), p.data(), p.data().length);
                }
            }
            return w.commit();
        }
    }

    private SnapshotHeader header(SnapshotKind kind, String checkpoint) {
        return new SnapshotHeader("vm", "vda", "/images/vm.qcow2", disk, kind, "test", checkpoint, null);
    }

    private Path restore(Repository repo, SnapshotManifest m, RestoreFormat format, Optional<Path> onto) throws IOException {
        Path out = work.resolve("restore-" + m.id() + "." + format.qemuName());
        new Restorer(repo).restore(new RestoreRequest(m, out, format, onto));
        return out;
    }

    private long chunkFiles() throws IOException {
        try (Stream<Path> files = Files.walk(work.resolve("repo").resolve("chunks"))) {
            return files.filter(Files::isRegularFile).count();
        }
    }

    private void createSparse(Path file) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(disk);
        }
    }

    /** writes the puts into a raw image (ZERO puts as zeroes) */
    private static void apply(Path raw, List<Put> puts) throws IOException {
        try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.WRITE)) {
            for (Put p : puts) {
                ByteBuffer b = ByteBuffer.wrap(p.data());
                while (b.hasRemaining()) {
                    ch.write(b, p.offset() + b.position());
                }
            }
        }
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(4 * CHUNK);
            long size = ch.size();
            long pos = 0;
            while (pos < size) {
                b.clear();
                int n = ch.read(b, pos);
                if (n < 0) {
                    break;
                }
                b.flip();
                md.update(b);
                pos += n;
            }
            md.update(ByteBuffer.allocate(8).putLong(size).flip());
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
