package dev.coldcopy.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.process.ProcessResult;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.repository.testing.ImageBackup;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.repository.testing.StartedCamel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** A delta served over its base image (qcow2 or raw), as restore --onto writes it, read by real clients. */
class ServeOntoTest {
    static final long MIB = 1024 * 1024;

    @TempDir
    Path work;
    @RegisterExtension
    final StartedCamel camel = new StartedCamel();

    @Test
    void aDeltaOverItsBaseReadsAsTheDiskDid() throws Exception {
        Path image = ServeTest.makeImage(work.resolve("disk.qcow2"));
        Path base = Files.copy(image, work.resolve("at-checkpoint.qcow2"));
        Path rawBase = work.resolve("at-checkpoint.raw");
        QemuImages.convert(base, rawBase, "raw");
        // changes since the checkpoint: new data over old, zeroes over data the base holds, data in a hole
        QemuImages.io(image, "write -P 0x11 3M 1M", "write -z 30M 1M", "write -P 0x22 60M 512k");
        QemuImages.writeRandom(image, 17 * MIB, (int) MIB, new Random(5));
        List<ImageBackup.Range> dirty = List.of(new ImageBackup.Range(3 * MIB, MIB), new ImageBackup.Range(17 * MIB, MIB),
                new ImageBackup.Range(30 * MIB, MIB), new ImageBackup.Range(60 * MIB, MIB / 2));
        try (Repository repo = Repository.init(RepositoryUri.parse("file:" + work.resolve("repo")),
                RepositoryOptions.builder().camelContext(camel.context()).parallelism(2).build())) {
            SnapshotManifest delta = repo.load(ImageBackup.delta(repo, image, "vm1", "vda", "cp-x", dirty));
            for (Path onto : List.of(base, rawBase)) {
                try (BaseImage b = BaseImage.open(onto);
                     ChunkCache cache = new ChunkCache(repo, 16 * MIB, 2);
                     NbdServer server = NbdServer.start(ServedExport.of(delta, cache, b), new ServeAddress.Unix(work.resolve("nbd.sock")))) {
                    ServeTest.assertSameAs(image, server.uri());
                    ProcessResult io = ServeTest.run("qemu-io", "-r", "-f", "raw", server.uri(), "-c", "read -P 0 30M 1M",
                            "-c", "read -P 0xab 31M 1M", "-c", "read -P 0x11 3M 1M", "-c", "read -P 0x22 60M 512k");
                    assertThat(io.stdout()).as(io.stdout() + io.stderrOneLine()).doesNotContain("Pattern verification failed")
                            .doesNotContain("error");
                    assertThat(server.export().description()).contains("delta onto " + onto);
                }
            }
            // the base is only read
            assertThat(QemuImages.identical(base, rawBase)).isTrue();

            Path small = QemuImages.createQcow2(work.resolve("small.qcow2"), 8 * MIB);
            try (BaseImage wrong = BaseImage.open(small); ChunkCache cache = new ChunkCache(repo, MIB)) {
                assertThatThrownBy(() -> ServedExport.of(delta, cache, wrong)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("is 8388608 bytes, the snapshot's disk 67108864");
            }
            SnapshotManifest full = repo.load(ImageBackup.full(repo, image, "vm1", "vda"));
            try (BaseImage b = BaseImage.open(base); ChunkCache cache = new ChunkCache(repo, MIB)) {
                assertThatThrownBy(() -> ServedExport.of(full, cache, b)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("--onto applies to delta snapshots only");
            }
            assertThatThrownBy(() -> BaseImage.open(work.resolve("missing.qcow2"))).hasMessageContaining("does not exist");
        }
    }
}
