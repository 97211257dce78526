package dev.coldcopy.backup;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.coldcopy.checkpoint.CheckpointJournal;
import dev.coldcopy.checkpoint.CheckpointNames;
import dev.coldcopy.qemu.ChainInspector;
import dev.coldcopy.qemu.ExportDirectory;
import dev.coldcopy.qemu.ImageLayer;
import dev.coldcopy.qemu.ProcessOwner;
import dev.coldcopy.process.ProcessException;
import dev.coldcopy.process.Processes;
import dev.coldcopy.qemu.QemuTools;
import dev.coldcopy.qemu.VmRunningException;

/**
 * Run at service start: undoes what a crashed coldcopy left in the work directory.
 * <ul>
 * <li>export directories whose owning JVM is gone: the server in its pid file is stopped — only after
 * {@code /proc/PID/cmdline} shows it really is that qemu-nbd/qemu-storage-daemon serving that directory —
 * then the directory (sockets, overlay, pid file, log) is deleted;</li>
 * <li>journaled checkpoints (added, never committed) whose owner is gone: the bitmap is removed from the
 * top image, if it is still there and is a coldcopy bitmap. If the image is open for writing now (the VM
 * started), the entry stays for the next start.</li>
 * </ul>
 * State owned by a live coldcopy process (a CLI backup running beside the service) is left alone.
 */
public final class Reaper {

    private static final Logger LOG = LoggerFactory.getLogger(Reaper.class);

    private final RunDirectory runDir;
    private final QemuTools tools;

    public Reaper(RunDirectory runDir, QemuTools tools) {
        this.runDir = runDir;
        this.tools = tools;
    }

    public Reaper(Path workDir, QemuTools tools) {
        this(RunDirectory.at(workDir), tools);
    }

    /** @return one line per thing undone or left alone, also logged */
    public List<String> reap() {
        List<String> done = new ArrayList<>();
        reapExports(done);
        reapJournal(done);
        done.forEach(line -> LOG.info("reaper: {}", line));
        return done;
    }

    private void reapExports(List<String> done) {
        if (!Files.isDirectory(runDir.exports())) {
            return;
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(runDir.exports())) {
            for (Path d : dirs) {
                ExportDirectory dir = ExportDirectory.existing(d);
                Optional<ProcessOwner> owner = dir.owner();
                if (owner.isPresent() && owner.get().isAlive()) {
                    done.add("left export " + d + ": its coldcopy process " + owner.get().pid() + " is running");
                    continue;
                }
                String program = dir.program().orElse("");
                Optional<Long> pid = Processes.readPidFile(dir.pidFile());
                if (pid.isPresent() && !program.isEmpty()) {
                    String binary = program.equals("qemu-nbd") ? tools.qemuNbd() : tools.qemuStorageDaemon();
                    if (Processes.isOurs(pid.get(), binary, d.toString())) {
                        Processes.terminate(pid.get(), Duration.ofSeconds(5));
                        done.add("stopped leftover " + program + " pid " + pid.get() + " of " + d);
                    }
                }
                dir.delete();
                done.add("removed leftover export directory " + d);
            }
        } catch (IOException | RuntimeException e) {
            done.add("could not clean " + runDir.exports() + ": " + e.getMessage());
        }
    }

    /** Only the top image is read (its backing files are never opened here). */
    private boolean topHasBitmap(Path image, String bitmap) {
        return ChainInspector.layer(tools.info(image, ImageLayer.QCOW2), image, ImageLayer.QCOW2).hasBitmap(bitmap);
    }

    private void reapJournal(List<String> done) {
        CheckpointJournal journal = runDir.journal();
        for (CheckpointJournal.Entry entry : journal.entries()) {
            if (entry.owner().isAlive()) {
                done.add("left pending checkpoint " + entry.bitmap() + " on " + entry.image() + ": its coldcopy process "
                        + entry.owner().pid() + " is running");
                continue;
            }
            if (!CheckpointNames.isColdcopy(entry.bitmap())) {
                journal.forget(entry); // never remove a bitmap coldcopy did not name
                continue;
            }
            try {
                if (Files.exists(entry.image()) && topHasBitmap(entry.image(), entry.bitmap())) {
                    tools.removeBitmap(entry.image(), entry.bitmap());
                    done.add("removed uncommitted checkpoint " + entry.bitmap() + " from " + entry.image());
                }
                journal.forget(entry);
            } catch (VmRunningException e) {
                done.add("kept pending checkpoint " + entry.bitmap() + " on " + entry.image() + " for the next start: "
                        + e.getMessage());
            } catch (ProcessException e) { // qemu-img failed, or did not finish in time
                done.add("could not remove checkpoint " + entry.bitmap() + " from " + entry.image() + ": " + e.getMessage());
            }
        }
        try (DirectoryStream<Path> tmps = Files.newDirectoryStream(journal.directory(), "*.tmp")) {
            for (Path t : tmps) {
                Files.deleteIfExists(t);
            }
        } catch (IOException e) {
            // nothing to clean
        }
    }
}
