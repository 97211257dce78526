package dev.coldcopy.service;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coldcopy.event.BackupEvent;
import java.util.List;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * The steps of {@code routes/backup.yaml} around one disk's backup (whose own steps are in
 * {@link dev.coldcopy.service.steps}): an event into disk jobs, a failed disk into a result, a result into JSON.
 */
public final class BackupProcessors {
    private final ObjectMapper json = new ObjectMapper().setSerializationInclusion(JsonInclude.Include.NON_NULL);


    /** BackupEvent → one {@link DiskJob} per disk, for the split. */
    public Processor diskJobs() {
        return exchange -> {
            BackupEvent event = exchange.getMessage().getMandatoryBody(BackupEvent.class);
            List<DiskJob> jobs = event.disks().stream().map(d -> new DiskJob(event, d)).toList();
            exchange.setProperty(ColdcopyHeaders.EVENT, event);
            exchange.getMessage().setBody(jobs);
        };
    }

    /** After retries are exhausted: a failure result for the disk (the exchange still fails). */
    public Processor failure() {
        return exchange -> {
            Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
            // the body is whatever the failed step left (a chunk stream, say); the job is kept aside
            DiskJob job = exchange.getProperty(ColdcopyHeaders.DISK_JOB, DiskJob.class);
            if (job != null) {
                String reason = Reasons.oneLine(cause);
                String ownLabel = job.label() + ": ";
                // the result names its VM and disk already: "m1/vda: m1/vda: image ..." says it twice
                BackupResult result = BackupResult.failure(job,
                        reason.startsWith(ownLabel) ? reason.substring(ownLabel.length()) : reason);
                exchange.setProperty(ColdcopyHeaders.RESULT, result);
                exchange.getMessage().setBody(result);
            }
        };
    }

    /** The VM's result ({@code "type":"vm"}) as JSON for the results endpoint, named as the disks' are. */
    public Processor vmResultJson() {
        return exchange -> {
            dev.coldcopy.service.vm.VmResult result = exchange.getProperty(ColdcopyHeaders.VM_RESULT, dev.coldcopy.service.vm.VmResult.class);
            exchange.getMessage().setHeader(ColdcopyHeaders.OUTCOME, result.outcome());
            exchange.getMessage().setHeader(ColdcopyHeaders.VM, result.vm()); // the key of the result on a topic
            exchange.getMessage().setHeader(Exchange.FILE_NAME, String.format("%d-%s-vm-%s.json",
                    System.currentTimeMillis(), result.vm(), result.outcome()));
            exchange.getMessage().setBody(json.writeValueAsBytes(result));
        };
    }

    /** The result as JSON for the results endpoint, named so results sort by time. */
    public Processor resultJson() {
        return exchange -> {
            BackupResult result = exchange.getProperty(ColdcopyHeaders.RESULT, BackupResult.class);
            exchange.getMessage().setHeader(ColdcopyHeaders.OUTCOME, result.outcome());
            exchange.getMessage().setHeader(ColdcopyHeaders.VM, result.vm()); // the key of the result on a topic
            exchange.getMessage().setHeader(Exchange.FILE_NAME, String.format("%d-%s-%s-%s.json",
                    System.currentTimeMillis(), result.vm(), result.disk(), result.outcome()));
            exchange.getMessage().setBody(json.writeValueAsBytes(result));
        };
    }
}
