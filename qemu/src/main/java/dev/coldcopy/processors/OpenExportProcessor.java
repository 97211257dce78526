package dev.coldcopy.processors;

import java.time.Duration;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;
import org.apache.camel.support.SynchronizationAdapter;

import dev.coldcopy.backup.DiskBackupSession;
import dev.coldcopy.backup.RunDirectory;
import dev.coldcopy.backup.Watchdog;
import dev.coldcopy.checkpoint.BackupPlan;
import dev.coldcopy.qemu.BackingChain;
import dev.coldcopy.qemu.ExportServer;
import dev.coldcopy.qemu.QemuTools;

/**
 * Reads {@value BackupHeaders#CHAIN} and {@value BackupHeaders#PLAN}; locks the disk, adds the next checkpoint,
 * starts the export; sets {@value BackupHeaders#NBD_URI}, {@value BackupHeaders#DIRTY_BITMAP_CONTEXT},
 * {@value BackupHeaders#CREATED_CHECKPOINT}. The session is kept in exchange property
 * {@value BackupHeaders#SESSION_PROPERTY} and closed when the exchange completes, whether it succeeded or not
 * — without a {@link CommitCheckpointProcessor} step the new checkpoint is removed again.
 */
public final class OpenExportProcessor implements Processor {

    private final QemuTools tools;
    private final RunDirectory runDir;
    private final ExportServer exports;
    private final Duration lockTimeout;

    public OpenExportProcessor(QemuTools tools, RunDirectory runDir, ExportServer exports, Duration lockTimeout) {
        this.tools = tools;
        this.runDir = runDir;
        this.exports = exports;
        this.lockTimeout = lockTimeout;
    }

    @Override
    public void process(Exchange exchange) {
        Message in = exchange.getMessage();
        BackingChain chain = in.getHeader(BackupHeaders.CHAIN, BackingChain.class);
        BackupPlan plan = in.getHeader(BackupHeaders.PLAN, BackupPlan.class);
        if (chain == null || plan == null) {
            throw new IllegalArgumentException("headers " + BackupHeaders.CHAIN + " and " + BackupHeaders.PLAN + " are required");
        }
        Watchdog.ensureRunning(runDir, tools); // nothing of this backup outlives the JVM, even a SIGKILL of it
        DiskBackupSession session = DiskBackupSession.open(runDir.diskLocks(), lockTimeout, tools, runDir.journal(),
                exports, chain, plan);
        exchange.setProperty(BackupHeaders.SESSION_PROPERTY, session);
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                session.close();
            }
        });
        in.setHeader(BackupHeaders.NBD_URI, session.export().nbdUri());
        session.export().dirtyBitmapContext().ifPresentOrElse(c -> in.setHeader(BackupHeaders.DIRTY_BITMAP_CONTEXT, c),
                () -> in.removeHeader(BackupHeaders.DIRTY_BITMAP_CONTEXT));
        session.createdCheckpoint().ifPresent(c -> in.setHeader(BackupHeaders.CREATED_CHECKPOINT, c));
    }
}
