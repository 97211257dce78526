package dev.coldcopy.backup;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import dev.coldcopy.checkpoint.CheckpointPlan;
import dev.coldcopy.qemu.ChainInspector;
import dev.coldcopy.qemu.ExportServer;
import dev.coldcopy.qemu.QemuTools;
import dev.coldcopy.security.ImagePolicy;

/**
 * Child JVM for ReaperTest: starts a backup (checkpoint added, export running), says READY, and waits to be
 * killed with -9 mid-backup. Args: workDir imageRoot image server previousCheckpoint size [watchdog].
 * With "watchdog" the session is opened the way coldcopy does (its watchdog process running).
 */
public final class CrashingBackupMain {

    public static void main(String[] args) throws Exception {
        Path workDir = Path.of(args[0]);
        QemuTools tools = QemuTools.defaults();
        RunDirectory runDir = RunDirectory.at(workDir);
        ChainInspector inspector = new ChainInspector(tools, new ImagePolicy(List.of(Path.of(args[1]))));
        var chain = inspector.inspect(Path.of(args[2]));
        // an incremental from the named checkpoint where it is usable, as the planner would decide
        var plan = dev.coldcopy.checkpoint.BitmapValidation.of(chain, args[4]).valid()
                ? CheckpointPlan.since(chain, "r1", args[4], Clock.systemUTC())
                : CheckpointPlan.full(chain, "r1", Clock.systemUTC());
        ExportServer server = ExportServer.named(args[3], tools, runDir.exports());
        DiskBackupSession session = args.length > 6 && args[6].equals("watchdog")
                ? DiskBackupSession.open(runDir.diskLocks().lock(chain.top().path(), Duration.ofSeconds(5)), tools, runDir,
                        server, chain, plan, java.util.Set.of())
                : DiskBackupSession.open(runDir.diskLocks(), Duration.ofSeconds(5), tools, runDir.journal(), server, chain, plan);
        System.out.println("READY " + session.export().pid() + " " + session.createdCheckpoint().orElseThrow() + " "
                + session.export().nbdUri());
        System.out.flush();
        Thread.sleep(120_000);
    }
}
