package dev.coldcopy.service.steps;

import dev.coldcopy.backup.DiskBackupSession;
import dev.coldcopy.checkpoint.CheckpointNames;
import dev.coldcopy.event.BadEventException;
import dev.coldcopy.nbd.camel.NbdConstants;
import dev.coldcopy.nbd.protocol.MetaContexts;
import dev.coldcopy.qemu.Bitmap;
import dev.coldcopy.qemu.RunningExport;
import dev.coldcopy.qemu.VmRunningException;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotKind;
import dev.coldcopy.service.BackupEngine;
import dev.coldcopy.service.ColdcopyHeaders;
import dev.coldcopy.service.Reasons;
import dev.coldcopy.service.plan.BackupPlan;
import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Step {@code openExport}: adds the next checkpoint bitmap to the top image (while nothing holds it), then
 * starts the read-only NBD export of the chain with the plan's checkpoint merged into one dirty bitmap. Out:
 * headers {@code CamelNbdUri} and {@code CamelNbdMetaContext} for the {@code nbd:} component, and
 * {@value ColdcopyHeaders#CREATED_CHECKPOINT}. Until {@code commitCheckpoint}, closing the backup removes the
 * new checkpoint again (so the old one stays the base); the export always stops then.
 */
public final class OpenExportProcessor implements Processor {
    private static final Logger LOG = LoggerFactory.getLogger(OpenExportProcessor.class);

    @Override
    public void process(Exchange exchange) throws IOException {
        DiskBackup backup = DiskBackup.of(exchange);
        BackupEngine engine = backup.engine();
        BackupPlan plan = backup.plan();
        Set<String> stillNeeded = checkpointsStillNeeded(backup);
        backup.openSession(lock -> {
            try {
                return DiskBackupSession.open(lock, engine.tools(), engine.runDirectory(), engine.exports(),
                        backup.chain(), plan.checkpoints(), stillNeeded);
            } catch (VmRunningException e) {
                throw new BadEventException(backup.label() + ": " + Reasons.oneLine(e));
            }
        });
        RunningExport export = backup.session().export();
        Message message = exchange.getMessage();
        message.setHeader(NbdConstants.URI, export.nbdUri());
        // the merged dirty bitmap to read, or allocation for a full backup
        message.setHeader(NbdConstants.META_CONTEXT,
                export.bitmap().map(MetaContexts::dirtyBitmap).orElse(MetaContexts.BASE_ALLOCATION));
        backup.session().createdCheckpoint().ifPresent(c -> message.setHeader(ColdcopyHeaders.CREATED_CHECKPOINT, c));
    }

    /** The checkpoints on this image the rotation must not remove when this backup commits. */
    private static Set<String> checkpointsStillNeeded(DiskBackup backup) throws IOException {
        Set<String> needed = new HashSet<>(checkpointsOtherDisksNeed(backup));
        if (backup.plan().kind() == SnapshotKind.DELTA) {
            // a delta is a side branch: the next normal backup of this disk still builds on the checkpoint of the
            // latest full/incremental, so the delta must not rotate it away
            backup.parent().map(m -> m.header().checkpointCreated()).filter(cp -> !cp.isBlank()).ifPresent(cp -> {
                needed.add(cp);
                LOG.info("{}: keeping checkpoint {}: the next incremental of this disk builds on it", backup.label(), cp);
            });
        }
        return needed;
    }

    /**
     * The checkpoints on this image that another (vm, disk) of this repository builds its next backup on:
     * one image backed up under two names has one checkpoint per name, and neither may remove the other's.
     * Only asked when the image carries a checkpoint of this repository that is not this disk's own (a
     * checkpoint is created by one backup and recorded by its snapshot alone): then every other disk's latest
     * snapshot is read, a cost that grows with the repository, so the usual image, which carries just this
     * disk's base, is spared it.
     */
    private static Set<String> checkpointsOtherDisksNeed(DiskBackup backup) throws IOException {
        Repository repository = backup.repository();
        Set<String> own = new HashSet<>();
        backup.parent().map(m -> m.header().checkpointCreated()).ifPresent(own::add);
        backup.latest().flatMap(Repository.LatestSnapshots::newest).map(m -> m.header().checkpointCreated()).ifPresent(own::add);
        List<String> ours = backup.chain().top().bitmaps().stream().map(Bitmap::name)
                .filter(n -> CheckpointNames.belongsTo(n, repository.id())).toList();
        if (own.containsAll(ours)) {
            return Set.of();
        }
        String vm = backup.job().event().vm();
        String disk = backup.job().disk().target();
        Set<String> needed = new HashSet<>();
        for (Repository.DiskName other : repository.disks()) {
            if (other.vm().equals(vm) && other.disk().equals(disk)) {
                continue;
            }
            repository.latestRestorable(other.vm(), other.disk())
                    .map(m -> m.header().checkpointCreated())
                    .filter(ours::contains)
                    .ifPresent(cp -> {
                        needed.add(cp);
                        LOG.info("{}: keeping checkpoint {}: {}/{} (the same image) builds on it", backup.label(), cp,
                                other.vm(), other.disk());
                    });
        }
        return needed;
    }
}
