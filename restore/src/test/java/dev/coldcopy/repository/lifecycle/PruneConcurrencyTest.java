package dev.coldcopy.repository.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.repository.BackupStatistics;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.SnapshotKind;
import dev.coldcopy.repository.SnapshotWriter;
import dev.coldcopy.repository.testing.ImageBackup;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.repository.testing.StartedCamel;
import dev.coldcopy.restore.RestoreFormat;
import dev.coldcopy.restore.RestoreRequest;
import dev.coldcopy.restore.Restorer;
import dev.coldcopy.repository.verify.Verifier;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A prune in another process while a backup runs here, started at several points of the backup: before
 * it, once it holds its writer, halfway through its data, and when all its data is stored but not yet
 * committed. The backup reuses every chunk of the snapshot the prune forgets (the disk went back to an
 * earlier state), the case where a collector that ignored running backups would delete chunks the new
 * snapshot names. Afterwards every snapshot left restores identical to the disk at its time, verify is
 * clean, and no lock is left.
 */
class PruneConcurrencyTest {
    static final long MIB = 1024 * 1024;

    @TempDir
    Path work;
    @RegisterExtension
    final StartedCamel camel = new StartedCamel();

    /** where in the backup the prune starts */
    enum Point { BEFORE_BACKUP, WRITER_OPEN, HALF_STORED, ALL_STORED }


    @ParameterizedTest(name = "prune started {0}")
    @EnumSource(Point.class)
    void pruneBesideABackupLosesNothing(Point point) throws Exception {
        RepositoryUri uri = RepositoryUri.parse("file:" + work.resolve("repo"));
        RepositoryOptions options = RepositoryOptions.builder().camelContext(camel.context()).parallelism(2).build();
        Map<SnapshotId, Path> states = new HashMap<>();
        Path image = QemuImages.createQcow2(work.resolve("disk.qcow2"), 64 * MIB);
        Random r = new Random(point.ordinal());
        QemuImages.writeRandom(image, 0, (int) (24 * MIB), r);
        Path x0 = work.resolve("x0.qcow2");
        QemuImages.copy(image, x0);
        try (Repository repo = Repository.init(uri, options)) {
            states.put(ImageBackup.full(repo, image, "vm", "vda"), x0);
            QemuImages.writeRandom(image, 0, (int) (24 * MIB), r);
            Path x1 = work.resolve("x1.qcow2");
            QemuImages.copy(image, x1);
            states.put(ImageBackup.full(repo, image, "vm", "vda"), x1);
            QemuImages.copy(x0, image); // back to the first state: the next backup reuses the first one's chunks

            Process[] prune = new Process[1];
            StringBuffer output = new StringBuffer();
            // the backup goes on once the prune has done all it can: finished, or waiting for the backup's lock
            Runnable startPrune = () -> {
                try {
                    prune[0] = PruneMain.command(uri.toString(), 1).start();
                    Thread reader = new Thread(() -> {
                        try {
                            prune[0].getInputStream().transferTo(new java.io.OutputStream() {
                                @Override
                                public void write(int b) {
                                    output.append((char) b);
                                }
                            });
                        } catch (java.io.IOException e) {
                            output.append(e);
                        }
                    });
                    reader.setDaemon(true);
                    reader.start();
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                    while (prune[0].isAlive() && !output.toString().contains("waiting for") && System.nanoTime() < deadline) {
                        Thread.sleep(20);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            };
            try {
                if (point == Point.BEFORE_BACKUP) {
                    startPrune.run();
                }
                states.put(backup(repo, image, point, startPrune), x0);
                assertThat(prune[0].waitFor(120, TimeUnit.SECONDS)).as("prune finished").isTrue();
                assertThat(prune[0].exitValue()).as("prune: " + output).isZero();
                if (point != Point.BEFORE_BACKUP) {
                    assertThat(output.toString()).as("the prune waited for the backup").contains("waiting for shared lock of backup vm/vda");
                }
            } finally {
                if (prune[0] != null) {
                    prune[0].destroyForcibly();
                }
            }
            for (SnapshotId id : repo.snapshotIds()) {
                Path out = work.resolve("out-" + id + ".raw");
                new Restorer(repo).restore(RestoreRequest.of(repo.load(id), out, RestoreFormat.RAW));
                assertThat(QemuImages.identical(out, states.get(id))).as("snapshot " + id + " restores identical").isTrue();
                Files.delete(out);
            }
            assertThat(new Verifier(repo).verify(Optional.empty()).problems()).isEmpty();
            assertThat(repo.backend().list("locks/")).isEmpty();
        }
    }

    /** a full backup of the image, the prune started at the given point of it */
    private static SnapshotId backup(Repository repo, Path image, Point point, Runnable startPrune) throws Exception {
        Path raw = image.resolveSibling("backup.raw");
        QemuImages.convert(image, raw, "raw");
        List<QemuImages.MapExtent> data = QemuImages.map(image).stream().filter(QemuImages.MapExtent::data).toList();
        long total = data.stream().mapToLong(QemuImages.MapExtent::length).sum();
        try (SnapshotWriter w = repo.newSnapshot(ImageBackup.header("vm", "vda", image, SnapshotKind.FULL, null), Optional.empty());
             FileChannel ch = FileChannel.open(raw, StandardOpenOption.READ)) {
            if (point == Point.WRITER_OPEN) {
                startPrune.run();
            }
            long put = 0;
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            for (QemuImages.MapExtent e : data) {
                for (long pos = e.start(); pos < e.end(); pos += buf.limit()) {
                    buf.clear().limit((int) Math.min(buf.capacity(), e.end() - pos));
                    while (buf.hasRemaining()) {
                        ch.read(buf, pos + buf.position());
                    }
                    buf.flip();
                    w.putData(pos, buf);
                    put += buf.limit();
                    if (point == Point.HALF_STORED && put == total / 2) {
                        w.awaitStored();
                        startPrune.run();
                    }
                }
            }
            if (point == Point.ALL_STORED) {
                w.awaitStored();
                startPrune.run();
            }
            return w.commit(BackupStatistics.read(total, Duration.ofSeconds(1)));
        } finally {
            Files.deleteIfExists(raw);
        }
    }
}
