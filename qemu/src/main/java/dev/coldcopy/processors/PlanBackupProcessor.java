package dev.coldcopy.processors;

import java.time.Clock;
import java.util.Optional;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;

import dev.coldcopy.checkpoint.BackupPlan;
import dev.coldcopy.checkpoint.BackupPlanner;
import dev.coldcopy.checkpoint.PreviousBackup;
import dev.coldcopy.qemu.BackingChain;

/**
 * Reads {@value BackupHeaders#CHAIN}, {@value BackupHeaders#REPOSITORY_ID}, optional {@value BackupHeaders#CHECKPOINT}
 * and {@value BackupHeaders#PREVIOUS_BACKUP}; sets {@value BackupHeaders#PLAN}, {@value BackupHeaders#BACKUP_KIND},
 * {@value BackupHeaders#BACKUP_REASON}.
 */
public final class PlanBackupProcessor implements Processor {

    private final Clock clock;

    public PlanBackupProcessor() {
        this(Clock.systemUTC());
    }

    public PlanBackupProcessor(Clock clock) {
        this.clock = clock;
    }

    @Override
    public void process(Exchange exchange) {
        Message in = exchange.getMessage();
        BackingChain chain = in.getHeader(BackupHeaders.CHAIN, BackingChain.class);
        String repositoryId = in.getHeader(BackupHeaders.REPOSITORY_ID, String.class);
        if (chain == null || repositoryId == null) {
            throw new IllegalArgumentException("headers " + BackupHeaders.CHAIN + " and " + BackupHeaders.REPOSITORY_ID
                    + " are required");
        }
        BackupPlan plan = BackupPlanner.plan(chain, repositoryId,
                Optional.ofNullable(in.getHeader(BackupHeaders.CHECKPOINT, String.class)),
                Optional.ofNullable(in.getHeader(BackupHeaders.PREVIOUS_BACKUP, PreviousBackup.class)), clock);
        in.setHeader(BackupHeaders.PLAN, plan);
        in.setHeader(BackupHeaders.BACKUP_KIND, plan.kind().label());
        in.setHeader(BackupHeaders.BACKUP_REASON, plan.reason());
    }
}
