package dev.coldcopy.qemu;

import dev.coldcopy.process.ProcessRunner;
import dev.coldcopy.process.ProcessResult;
import dev.coldcopy.process.Processes;
import static dev.coldcopy.testing.QemuImages.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.coldcopy.backup.DiskBackupSession;
import dev.coldcopy.backup.RunDirectory;
import dev.coldcopy.checkpoint.CheckpointPlan;
import dev.coldcopy.security.ImagePolicy;

/** Both export ways against real qemu, read back with nbdinfo/nbdcopy/qemu-io. */
class ExportTest {

    static final String CP = "coldcopy.r1.20261125T100000000Z";
    static final long K = 1024;
    static final long M = 1024 * K;
    static final long G = 64 * K; // default qcow2 bitmap granularity

    @TempDir
    Path dir;
    Path images;
    RunDirectory runDir;
    QemuTools tools = QemuTools.defaults().withTimeout(Duration.ofSeconds(30));
    ChainInspector inspector;

    @BeforeEach
    void setUp() throws IOException {
        images = Files.createDirectory(dir.resolve("images"));
        runDir = RunDirectory.at(dir.resolve("run"));
        inspector = new ChainInspector(tools, new ImagePolicy(List.of(images)));
    }

    @AfterEach
    void nothingLeftBehind() throws IOException {
        assertThat(serversMentioning(runDir.root().toString())).as("servers left running").isEmpty();
        try (Stream<Path> left = Files.list(runDir.exports())) {
            assertThat(left).as("export directories left").isEmpty();
        }
    }

    ExportServer server(String name) {
        return ExportServer.named(name, tools, runDir.exports());
    }

    CheckpointPlan plan(Path top, long size) {
        return CheckpointPlan.since(inspector.inspect(top), "r1", CP, Clock.systemUTC());
    }

    DiskBackupSession open(String server, Path top, CheckpointPlan plan) {
        return DiskBackupSession.open(runDir.diskLocks(), Duration.ofSeconds(5), tools, runDir.journal(), server(server),
                inspector.inspect(top), plan);
    }

    static long[] r(long start, long end) {
        return new long[] {start, end};
    }

    @ParameterizedTest
    @ValueSource(strings = {"qemu-storage-daemon", "qemu-nbd"})
    void singleImageExportsExactlyTheWritesSinceTheCheckpoint(String server) throws IOException {
        Path top = createQcow2(images.resolve("disk.qcow2"), "8M");
        writePattern(top, 0x11, 3 * M, 64 * K); // before the checkpoint: not dirty
        addBitmap(top, CP);
        writePattern(top, 0x22, 0, 4 * K);
        writePattern(top, 0x33, 5 * M + 100, 200);
        CheckpointPlan plan = plan(top, 8 * M);
        assertThat(plan.baseBitmap()).isPresent();
        try (DiskBackupSession session = open(server, top, plan)) {
            RunningExport export = session.export();
            String ctx = "qemu:dirty-bitmap:" + export.bitmap().orElseThrow();
            assertThat(ctx).isEqualTo(server.equals("qemu-nbd") ? "qemu:dirty-bitmap:" + CP
                    : "qemu:dirty-bitmap:coldcopy-backup");
            assertThat(export.nbdUri()).isEqualTo("nbd+unix:///disk?socket=" + export.socketPath());
            assertThat(dirtyRanges(export.nbdUri(), ctx)).containsExactly(r(0, G), r(5 * M, 5 * M + G));
            assertThat(Files.getPosixFilePermissions(export.directory()))
                    .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE,
                            java.nio.file.attribute.PosixFilePermission.OWNER_EXECUTE);
            assertThat(sameContent(export, top)).isTrue();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"qemu-storage-daemon", "qemu-nbd"})
    void threeLayerChainExportsTheUnionOfTheWritesInEveryLayer(String server) {
        Path base = createQcow2(images.resolve("base.qcow2"), "16M");
        writePattern(base, 0x01, 10 * M, 1 * M); // before the checkpoint
        addBitmap(base, CP);
        writePattern(base, 0x02, 0, 64 * K);
        writePattern(base, 0x03, 5 * M + 10 * K, 4 * K);
        Path mid = createOverlay(images.resolve("mid.qcow2"), base);
        addBitmap(mid, CP);
        writePattern(mid, 0x04, 2 * M, 128 * K);
        writePattern(mid, 0x05, 5 * M + 20 * K, 4 * K); // same cluster as a base write
        Path top = createOverlay(images.resolve("top.qcow2"), mid);
        addBitmap(top, CP);
        writePattern(top, 0x06, 8 * M, 1 * K);
        writePattern(top, 0x07, 15 * M + 60 * K, 8 * K); // straddles two granules
        addBitmap(top, "libvirt-foreign"); // unrelated bitmaps do not matter

        CheckpointPlan plan = plan(top, 16 * M);
        assertThat(plan.baseLayers()).hasSize(3);
        try (DiskBackupSession session = open(server, top, plan)) {
            RunningExport export = session.export();
            assertThat(dirtyRanges(export.nbdUri(), "qemu:dirty-bitmap:" + export.bitmap().orElseThrow())).containsExactly(
                    r(0, G), r(2 * M, 2 * M + 128 * K), r(5 * M, 5 * M + G), r(8 * M, 8 * M + G), r(15 * M, 15 * M + 2 * G));
            assertThat(sameContent(export, top)).isTrue();
            // the overlay (qemu-nbd way) is unlinked as soon as qemu-nbd serves it
            assertThat(export.directory().resolve("overlay.qcow2")).doesNotExist();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"qemu-storage-daemon", "qemu-nbd"})
    void fullExportCarriesNoBitmap(String server) {
        Path top = createQcow2(images.resolve("disk.qcow2"), "4M");
        writePattern(top, 0x44, 1 * M, 64 * K);
        CheckpointPlan plan = CheckpointPlan.full(inspector.inspect(top), "r1", Clock.systemUTC());
        try (DiskBackupSession session = open(server, top, plan)) {
            assertThat(session.export().bitmap()).isEmpty();
            String info = nbdInfo(session.export().nbdUri());
            assertThat(info).contains("base:allocation").doesNotContain("qemu:dirty-bitmap");
            assertThat(sameContent(session.export(), top)).isTrue();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"qemu-storage-daemon", "qemu-nbd"})
    void exportOfARunningVmIsRefusedAsRunning(String server) throws IOException {
        Path base = createQcow2(images.resolve("base.qcow2"), "4M");
        addBitmap(base, CP);
        Path top = createOverlay(images.resolve("top.qcow2"), base);
        addBitmap(top, CP);
        BackingChain chain = inspector.inspect(top);
        CheckpointPlan plan = plan(top, 4 * M);
        try (var vm = holdOpen(top)) {
            assertThatThrownBy(() -> server(server).start(chain, plan)).isInstanceOf(VmRunningException.class)
                    .hasMessageStartingWith("VM is running: ").hasMessageContaining("lock");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"qemu-storage-daemon", "qemu-nbd"})
    void killingTheServerMidReadStillCleansUp(String server) throws Exception {
        Path top = createQcow2(images.resolve("disk.qcow2"), "4M");
        writePattern(top, 0x55, 0, 1 * M);
        CheckpointPlan plan = CheckpointPlan.full(inspector.inspect(top), "r1", Clock.systemUTC());
        RunningExport export = server(server).start(inspector.inspect(top), plan);
        try (var reader = new NbdReader(export.nbdUri())) {
            assertThat(reader.read(0, 64 * K)).isTrue();
            ProcessHandle.of(export.pid()).orElseThrow().destroyForcibly();
            assertThat(Processes.waitGone(export.pid(), Duration.ofSeconds(5))).isTrue();
            assertThat(reader.read(64 * K, 64 * K)).isFalse();
        } finally {
            export.close();
        }
        assertThat(export.socketPath()).doesNotExist();
        assertThat(export.directory()).doesNotExist();
    }

    @ParameterizedTest
    @ValueSource(strings = {"qemu-storage-daemon", "qemu-nbd"})
    void aServerThatCannotStartLeavesNothing(String server) {
        Path top = createQcow2(images.resolve("disk.qcow2"), "4M");
        addBitmap(top, CP);
        BackingChain chain = inspector.inspect(top);
        // a plan naming a bitmap the image does not have: qemu refuses, its message comes through
        CheckpointPlan bogus = new CheckpointPlan(Optional.of("nope"), List.of(chain.top()), G, Optional.empty(), "r1");
        assertThatThrownBy(() -> server(server).start(chain, bogus)).isInstanceOf(QemuException.class)
                .hasMessageContaining("nope");
    }

    /** Reads the whole export with nbdcopy and compares it with the image (qemu-img compare). */
    boolean sameContent(RunningExport export, Path image) {
        Path out = dir.resolve("copy-" + System.nanoTime() + ".raw");
        run("nbdcopy", export.nbdUri(), out.toString());
        ProcessResult cmp = ProcessRunner.run(List.of("qemu-img", "compare", "-U", "-f", "raw", "-F", "qcow2", out.toString(),
                image.toString()), Duration.ofSeconds(30));
        try {
            Files.delete(out);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return cmp.exitCode() == 0;
    }

    /** An NBD client connected for a while: qemu-io reading from the export, one command at a time. */
    static final class NbdReader implements AutoCloseable {
        private final Process process;
        private final java.io.BufferedReader out;

        NbdReader(String uri) throws IOException {
            process = new ProcessBuilder("qemu-io", "-r", "-f", "raw", uri).redirectErrorStream(true).start();
            out = new java.io.BufferedReader(new java.io.InputStreamReader(process.getInputStream()));
        }

        boolean read(long offset, long length) throws IOException {
            process.getOutputStream().write(("read " + offset + " " + length + "\n").getBytes());
            process.getOutputStream().flush();
            String line;
            while ((line = out.readLine()) != null) {
                if (line.contains("read " + length + "/" + length)) {
                    return true;
                }
                if (line.toLowerCase().contains("error") || line.contains("failed")) {
                    return false;
                }
            }
            return false;
        }

        @Override
        public void close() throws Exception {
            process.destroyForcibly().waitFor();
        }
    }
}
