package dev.coldcopy.service;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coldcopy.event.BackupEvent;
import dev.coldcopy.nbd.camel.NbdChunk;
import dev.coldcopy.nbd.camel.NbdChunkKind;
import dev.coldcopy.nbd.camel.NbdConstants;
import java.util.List;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * The thin Camel steps of {@code routes/backup.yaml}; each one reads the exchange, calls the backup
 * domain, and writes the exchange back. The disk's {@link DiskBackup} travels as an exchange property.
 */
public final class BackupProcessors {
    /** Exchange property holding the running {@link DiskBackup}. */
    public static final String DISK_BACKUP = "coldcopyDiskBackup";
    /** Exchange property holding a disk's {@link BackupResult}, success or failure. */
    public static final String RESULT = "coldcopyResult";
    /** Exchange property holding the {@link DiskJob} being tried (set by routes/backup.yaml, kept across retries). */
    public static final String DISK_JOB = "coldcopyDiskJob";

    private final BackupEngineHolder engine;
    private final ObjectMapper json = new ObjectMapper().setSerializationInclusion(JsonInclude.Include.NON_NULL);

    public BackupProcessors(BackupEngineHolder engine) {
        this.engine = engine;
    }

    /** BackupEvent → one {@link DiskJob} per disk, for the split. */
    public Processor diskJobs() {
        return exchange -> {
            BackupEvent event = exchange.getMessage().getMandatoryBody(BackupEvent.class);
            List<DiskJob> jobs = event.disks().stream().map(d -> new DiskJob(event, d)).toList();
            exchange.getMessage().setBody(jobs);
        };
    }

    /** Lock, inspect, plan, rotate, export; the NBD headers then name the export to read. */
    public Processor prepare() {
        return exchange -> {
            DiskJob job = exchange.getMessage().getMandatoryBody(DiskJob.class);
            exchange.setProperty(RESULT, null);
            DiskBackup backup = DiskBackup.prepare(engine.get(exchange.getContext()), job);
            exchange.setProperty(DISK_BACKUP, backup);
            exchange.getMessage().setHeader(ColdcopyHeaders.VM, job.event().vm());
            exchange.getMessage().setHeader(ColdcopyHeaders.DISK, job.disk().target());
            exchange.getMessage().setHeader(NbdConstants.URI, backup.export().nbdUri());
            exchange.getMessage().setHeader(NbdConstants.META_CONTEXT, backup.metaContext());
        };
    }

    /** One chunk from the nbd: component into the snapshot. */
    public Processor storeChunk() {
        return exchange -> {
            NbdChunk chunk = exchange.getMessage().getMandatoryBody(NbdChunk.class);
            DiskBackup backup = exchange.getProperty(DISK_BACKUP, DiskBackup.class);
            if (chunk.kind() == NbdChunkKind.ZERO) {
                backup.putZero(chunk.offset(), chunk.length());
            } else if (chunk.kind() == NbdChunkKind.DATA) {
                backup.putData(chunk.offset(), chunk.data(), chunk.length());
            }
        };
    }

    /** Manifest written last, then the checkpoint rotates; the body becomes the result. */
    public Processor commit() {
        return exchange -> {
            DiskBackup backup = exchange.getProperty(DISK_BACKUP, DiskBackup.class);
            BackupResult result = backup.commit();
            exchange.setProperty(RESULT, result);
            exchange.getMessage().setBody(result);
        };
    }

    /** Always runs: stops the export, and undoes the checkpoint and snapshot if nothing was committed. */
    public Processor finish() {
        return exchange -> {
            DiskBackup backup = exchange.getProperty(DISK_BACKUP, DiskBackup.class);
            exchange.removeProperty(DISK_BACKUP);
            // A chunk that failed in the streaming split marks the exchange "redelivery exhausted" (so that
            // nothing retries that one chunk); left set, the disk as a whole would not be retried either.
            exchange.getExchangeExtension().setRedeliveryExhausted(false);
            if (backup != null) {
                backup.close();
            }
        };
    }

    /** After retries are exhausted: a failure result for the disk (the exchange still fails). */
    public Processor failure() {
        return exchange -> {
            Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
            // the body is whatever the failed step left (a chunk stream, say); the job is kept aside
            DiskJob job = exchange.getProperty(DISK_JOB, DiskJob.class);
            if (job != null) {
                BackupResult result = BackupResult.failure(job, Reasons.oneLine(cause));
                exchange.setProperty(RESULT, result);
                exchange.getMessage().setBody(result);
            }
        };
    }

    /** The result as JSON for the results endpoint, named so results sort by time. */
    public Processor resultJson() {
        return exchange -> {
            BackupResult result = exchange.getProperty(RESULT, BackupResult.class);
            exchange.getMessage().setHeader(ColdcopyHeaders.OUTCOME, result.outcome());
            exchange.getMessage().setHeader(Exchange.FILE_NAME, String.format("%d-%s-%s-%s.json",
                    System.currentTimeMillis(), result.vm(), result.disk(), result.outcome()));
            exchange.getMessage().setBody(json.writeValueAsBytes(result));
        };
    }
}
