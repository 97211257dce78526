package dev.coldcopy.repository.testing;

import dev.coldcopy.repository.BackupStatistics;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotHeader;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.SnapshotKind;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.repository.SnapshotWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Backs up a qcow2 image the way the service will, without NBD: the image's content comes from a raw
 * conversion, its extents from {@code qemu-img map}, the dirty ranges (incremental, delta) from the test.
 */
public final class ImageBackup {
    private static final int READ = 1024 * 1024;

    /** a dirty range, as a checkpoint bitmap would report it */
    public record Range(long offset, long length) {
        public long end() {
            return offset + length;
        }
    }

    private ImageBackup() {
    }

    public static SnapshotHeader header(String vm, String disk, Path image, SnapshotKind kind, String checkpointUsed) throws IOException {
        return new SnapshotHeader(vm, disk, image.toString(), QemuImages.virtualSize(image), kind, "test " + kind.label(),
                checkpointUsed, null);
    }

    /** a full backup: every data extent and every zero extent */
    public static SnapshotId full(Repository repo, Path image, String vm, String disk) throws IOException {
        return run(repo, image, header(vm, disk, image, SnapshotKind.FULL, null), Optional.empty(), null);
    }

    public static SnapshotId incremental(Repository repo, Path image, SnapshotManifest parent, List<Range> dirty) throws IOException {
        return run(repo, image, header(parent.vm(), parent.disk(), image, SnapshotKind.INCREMENTAL, "cp-test"), Optional.of(parent), dirty);
    }

    public static SnapshotId delta(Repository repo, Path image, String vm, String disk, String checkpoint, List<Range> dirty) throws IOException {
        return run(repo, image, header(vm, disk, image, SnapshotKind.DELTA, checkpoint), Optional.empty(), dirty);
    }

    /** writes the snapshot; dirty == null means the whole disk */
    public static SnapshotId run(Repository repo, Path image, SnapshotHeader header, Optional<SnapshotManifest> parent,
                                 List<Range> dirty) throws IOException {
        Path raw = Files.createTempFile(image.getParent(), "backup", ".raw");
        long t0 = System.nanoTime();
        try (SnapshotWriter w = repo.newSnapshot(header, parent)) {
            QemuImages.convert(image, raw, "raw");
            List<QemuImages.MapExtent> map = QemuImages.map(image);
            long read = 0;
            try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.READ)) {
                ByteBuffer buf = ByteBuffer.allocate(READ);
                for (QemuImages.MapExtent e : map) {
                    List<Range> pieces = dirty == null ? List.of(new Range(e.start(), e.length())) : intersect(e, dirty);
                    for (Range p : pieces) {
                        if (!e.data()) {
                            w.putZero(p.offset(), p.length());
                            continue;
                        }
                        long pos = p.offset();
                        while (pos < p.end()) {
                            buf.clear().limit((int) Math.min(READ, p.end() - pos));
                            while (buf.hasRemaining()) {
                                if (ch.read(buf, pos + buf.position()) < 0) {
                                    throw new IOException("raw image ends early at " + pos);
                                }
                            }
                            buf.flip();
                            read += buf.remaining();
                            w.putData(pos, buf);
                            pos += buf.limit();
                        }
                    }
                }
            }
            return w.commit(BackupStatistics.read(read, Duration.ofNanos(System.nanoTime() - t0)));
        } finally {
            Files.deleteIfExists(raw);
        }
    }

    static List<Range> intersect(QemuImages.MapExtent e, List<Range> dirty) {
        return dirty.stream()
                .filter(d -> d.offset() < e.end() && d.end() > e.start())
                .map(d -> new Range(Math.max(d.offset(), e.start()), Math.min(d.end(), e.end()) - Math.max(d.offset(), e.start())))
                .sorted((a, b) -> Long.compare(a.offset(), b.offset()))
                .toList();
    }
}
