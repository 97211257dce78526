package dev.coldcopy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.testing.Tools;
import dev.coldcopy.repository.BackupStatistics;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.SnapshotId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A raw disk has no dirty bitmap: every backup reads its allocated blocks, and only chunks the repository does
 * not have yet are stored. Each snapshot restores byte for byte, to raw as to qcow2.
 */
class RawDiskBackupTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void everyBackupIsFullFromTheAllocationMapAndStoresOnlyNewChunks() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Path disk = QemuImages.createRaw(images.resolve("data.raw"), "256M");
        QemuImages.writeRandom(disk, 0, (int) (8 * MIB), new java.util.Random(1));
        QemuImages.writeRandom(disk, 100 * MIB, (int) (4 * MIB), new java.util.Random(2));
        String repo = "file:" + dir.resolve("repo");

        CliRun first = backup(repo, disk, images);
        assertThat(first.out()).matches("web/vdb \\S+ full raw image: .*\\R\\S+ \\S+ vm .*\\R");
        Path atFirst = Files.copy(disk, dir.resolve("at-first.raw"));

        QemuImages.writeRandom(disk, 2 * MIB, (int) (MIB), new java.util.Random(3));     // 1 MiB changed: one new chunk's worth
        CliRun second = backup(repo, disk, images);
        assertThat(second.out()).matches("web/vdb \\S+ full raw image: .*\\R\\S+ \\S+ vm .*\\R");
        try (Repository repository = Repository.open(RepositoryUri.parse(repo), RepositoryOptions.defaults())) {
            BackupStatistics one = repository.load(SnapshotId.parse(DeltaKeepsIncrementalBaseTest.snapshotId(first))).statistics();
            BackupStatistics two = repository.load(SnapshotId.parse(DeltaKeepsIncrementalBaseTest.snapshotId(second))).statistics();
            assertThat(two.bytesRead()).as("the whole allocation is read again").isEqualTo(12 * MIB);
            // dedup against what the first backup stored: the unchanged 11 MiB cost no upload
            assertThat(one.bytesNew()).isGreaterThanOrEqualTo(12 * MIB);
            assertThat(two.bytesNew()).as("new bytes of the second backup: %s", two).isLessThanOrEqualTo(4 * MIB);
            assertThat(two.chunksReused()).isPositive();
        }

        assertRestores(repo, DeltaKeepsIncrementalBaseTest.snapshotId(first), atFirst, "raw");
        assertRestores(repo, DeltaKeepsIncrementalBaseTest.snapshotId(second), disk, "qcow2");
        assertRestores(repo, "latest", disk, "raw");

        // the VM backup of a --disk backup: its disks, as their format, and no domain definition to write or define
        Path to = dir.resolve("vm");
        CliRun vm = CliRun.coldcopy("restore", "--repo", repo, "--vm", "web", "--to", to.toString());
        assertThat(vm.exit()).as(vm.err()).isZero();
        assertThat(QemuImages.identical(to.resolve("vdb.raw"), disk)).isTrue();
        try (var files = Files.list(to)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("vdb.raw");
        }
        CliRun define = CliRun.coldcopy("restore", "--repo", repo, "--vm", "web", "--to", dir.resolve("vm2").toString(), "--define");
        assertThat(define.exit()).isNotZero();
        assertThat(define.err()).contains("holds no domain definition (it was backed up with --disk, not from libvirt)");
        assertThat(dir.resolve("vm2")).doesNotExist();
    }

    private CliRun backup(String repo, Path disk, Path images) {
        CliRun run = CliRun.coldcopy("backup", "--repo", repo, "--vm", "web", "--disk", "vdb=" + disk, "--allow-root",
                images.toString(), "-Dcoldcopy.home=" + dir.resolve("home"), "-Dcoldcopy.retry.max=0",
                "-Dcoldcopy.repository.fsync=false");
        assertThat(run.exit()).as(run.err()).isZero();
        return run;
    }

    private void assertRestores(String repo, String snapshot, Path expected, String format) {
        Path restored = dir.resolve("restored-" + snapshot + "." + format);
        CliRun restore = CliRun.coldcopy("restore", "--repo", repo, "--vm", "web", "--disk", "vdb", "--snapshot", snapshot,
                "--format", format, "--output", restored.toString());
        assertThat(restore.exit()).as(restore.err()).isZero();
        assertThat(Tools.run(Duration.ofMinutes(2), List.of("qemu-img", "compare", "-F", "raw", restored.toString(),
                expected.toString()))).contains("Images are identical");
    }
}
