package dev.coldcopy.backup;

import dev.coldcopy.checkpoint.CheckpointPlan;

import static dev.coldcopy.testing.QemuImages.*;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.coldcopy.qemu.ChainInspector;
import dev.coldcopy.qemu.ExportServer;
import dev.coldcopy.process.Processes;
import dev.coldcopy.qemu.QemuTools;
import dev.coldcopy.security.ImagePolicy;

/** A coldcopy JVM killed with -9 mid-backup: the next start's reaper leaves nothing behind. */
class ReaperTest {

    static final String PREV = "coldcopy.r1.20261124T100000000Z";

    @TempDir
    Path dir;
    Path images;
    Path base;
    Path top;
    Path work;
    QemuTools tools = QemuTools.defaults();

    @BeforeEach
    void setUp() throws Exception {
        images = Files.createDirectory(dir.resolve("images"));
        work = dir.resolve("run");
        base = createQcow2(images.resolve("base.qcow2"), "4M");
        addBitmap(base, PREV);
        writePattern(base, 1, 0, 64 << 10);
        top = createOverlay(images.resolve("top.qcow2"), base);
        addBitmap(top, PREV);
        addBitmap(top, "libvirt-1");
        writePattern(top, 2, 1 << 20, 64 << 10);
    }

    @ParameterizedTest
    @ValueSource(strings = {"qemu-storage-daemon", "qemu-nbd"})
    void reaperUndoesWhatAKilledJvmLeft(String server) throws Exception {
        String baseHash = sha256(base);
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), CrashingBackupMain.class.getName(), work.toString(), images.toString(),
                top.toString(), server, PREV, Long.toString(4 << 20)).redirectErrorStream(true).start();
        long serverPid;
        String created;
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream()));
            String line;
            StringBuilder seen = new StringBuilder();
            while ((line = out.readLine()) != null && !line.startsWith("READY ")) {
                seen.append(line).append('\n');
            }
            assertThat(line).as("child output: %s", seen).isNotNull();
            String[] ready = line.split(" ");
            serverPid = Long.parseLong(ready[1]);
            created = ready[2];
            assertThat(dirtyRanges(ready[3], "qemu:dirty-bitmap:" + "coldcopy-backup"))
                    .hasSize(2);
            // the child holds the disk: another coldcopy process is refused by the lock file
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> RunDirectory.at(work).diskLocks().lock(top, Duration.ofMillis(300)))
                    .isInstanceOf(DiskBusyException.class)
                    .hasMessageContaining("is busy: another coldcopy process is backing it up (pid " + child.pid());
        } finally {
            child.destroyForcibly(); // kill -9 mid-backup
            child.waitFor(10, TimeUnit.SECONDS);
        }
        // the crash left: a server, its directory and socket, and the uncommitted checkpoint
        assertThat(Processes.isRunning(serverPid)).isTrue();
        assertThat(bitmaps(top)).contains(created);
        RunDirectory runDir = RunDirectory.at(work);
        assertThat(runDir.journal().entries()).hasSize(1);

        List<String> done = new Reaper(work, tools).reap();

        assertThat(done).anyMatch(l -> l.startsWith("stopped leftover " + server + " pid " + serverPid))
                .anyMatch(l -> l.startsWith("removed leftover export directory"))
                .anyMatch(l -> l.equals("removed uncommitted checkpoint " + created + " from " + top));
        assertThat(Processes.waitGone(serverPid, Duration.ofSeconds(5))).isTrue();
        assertThat(serversMentioning(work.toString())).isEmpty();
        try (Stream<Path> left = Files.list(runDir.exports())) {
            assertThat(left).isEmpty();
        }
        assertThat(runDir.journal().entries()).isEmpty();
        assertThat(bitmaps(top)).containsExactlyInAnyOrder(PREV, "libvirt-1");
        assertThat(sha256(base)).isEqualTo(baseHash);
        try (DiskLock free = runDir.diskLocks().lock(top, Duration.ofMillis(300))) {
            assertThat(free.image()).isEqualTo(top); // the OS released the dead JVM's lock
        }
        // a second run finds nothing to do, and the disk backs up incrementally from PREV as before
        assertThat(new Reaper(work, tools).reap()).isEmpty();
        ChainInspector inspector = new ChainInspector(tools, new ImagePolicy(List.of(images)));
        assertThat(CheckpointPlan.since(inspector.inspect(top), "r1", PREV, Clock.systemUTC()).baseBitmap()).contains(PREV);
    }

    @Test
    void reaperLeavesALiveBackupAlone() throws Exception {
        RunDirectory runDir = RunDirectory.at(work);
        ChainInspector inspector = new ChainInspector(tools, new ImagePolicy(List.of(images)));
        var chain = inspector.inspect(top);
        var plan = CheckpointPlan.since(chain, "r1", PREV, Clock.systemUTC());
        try (DiskBackupSession session = DiskBackupSession.open(runDir.diskLocks(), Duration.ofSeconds(5), tools,
                runDir.journal(), ExportServer.named("qemu-storage-daemon", tools, runDir.exports()), chain, plan)) {
            List<String> done = new Reaper(runDir, tools).reap();
            assertThat(done).hasSize(2).allMatch(l -> l.startsWith("left "));
            assertThat(Processes.isRunning(session.export().pid())).isTrue();
            assertThat(session.export().socketPath()).exists();
            assertThat(bitmaps(top)).contains(session.createdCheckpoint().orElseThrow());
        }
        assertThat(serversMentioning(work.toString())).isEmpty();
    }

    @Test
    void aRecycledPidIsNeverKilled() throws Exception {
        RunDirectory runDir = RunDirectory.at(work);
        Path fake = Files.createDirectory(runDir.exports().resolve("e-deadbeef"));
        Files.writeString(fake.resolve("owner"), "999999999 1\nqemu-nbd\n");
        Process innocent = new ProcessBuilder("sleep", "30").start();
        try {
            Files.writeString(fake.resolve("server.pid"), Long.toString(innocent.pid()));
            List<String> done = new Reaper(runDir, tools).reap();
            assertThat(done).containsExactly("removed leftover export directory " + fake);
            assertThat(innocent.isAlive()).isTrue();
        } finally {
            innocent.destroyForcibly().waitFor();
        }
    }
}
