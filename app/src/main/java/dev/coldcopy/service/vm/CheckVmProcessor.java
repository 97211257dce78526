package dev.coldcopy.service.vm;

import dev.coldcopy.domain.HostFileRef;
import dev.coldcopy.event.BackupEvent;
import dev.coldcopy.event.BadEventException;
import dev.coldcopy.event.DiskSpec;
import dev.coldcopy.qemu.VmRunningException;
import dev.coldcopy.security.ImageNotFoundException;
import dev.coldcopy.security.RefusedException;
import dev.coldcopy.service.BackupEngine;
import dev.coldcopy.service.BackupEngineHolder;
import dev.coldcopy.service.Reasons;
import dev.coldcopy.service.BackupResult;
import dev.coldcopy.service.ColdcopyHeaders;
import dev.coldcopy.service.DiskJob;
import java.util.ArrayList;
import java.util.List;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.Processor;

/**
 * Step {@code checkVm}: before any disk is touched, every disk's backing chain is inspected (each image and
 * backing file inside the allowed roots and present), and every host file of its domain
 * (NVRAM, kernel, initrd, dtb) is checked against the allowed file roots. One refusal refuses the whole VM: a
 * backup without one of its disks or files would not restore as that VM. Only a missing host file is not a
 * refusal (an NVRAM a VM that never ran does not have yet): the VM backup notes it.
 */
public final class CheckVmProcessor implements Processor {
    private final BackupEngineHolder engines;

    public CheckVmProcessor(BackupEngineHolder engines) {
        this.engines = engines;
    }

    @Override
    public void process(Exchange exchange) {
        BackupEvent event = exchange.getMessage().getBody(BackupEvent.class);
        if (event == null) {
            return;
        }
        BackupEngine engine = engines.get(exchange.getContext());
        for (DiskSpec disk : event.disks()) {
            try {
                engine.inspector().inspect(disk.image(), disk.declaredFormat());
            } catch (RefusedException e) {
                throw refused(exchange, event, "disk " + disk.target(), e);
            } catch (VmRunningException e) {
                // in use right now (a VM started again, another tool): that disk fails on its own, retried as
                // any busy disk is, and the others go on; only what can never be backed up refuses the VM
            }
        }
        for (HostFileRef file : event.domain().map(d -> d.files()).orElse(java.util.List.of())) {
            try {
                engine.filePolicy().validate(file.path());
            } catch (ImageNotFoundException e) {
                // not a refusal: see the class comment
            } catch (RefusedException e) {
                throw refused(exchange, event, file.role() + " file", e);
            }
        }
    }

    /**
     * The refusal, after each disk's failed result and the VM's were published as for any failed backup (results
     * endpoint, results topic, the failed-backups metric): a refused VM is a failed backup to whoever watches them.
     */
    private static BadEventException refused(Exchange exchange, BackupEvent event, String what, RuntimeException e) {
        String reason = event.vm() + " refused whole (nothing was backed up): " + what + ": " + Reasons.oneLine(e);
        List<VmResult.Disk> disks = new ArrayList<>();
        try (ProducerTemplate results = exchange.getContext().createProducerTemplate()) {
            for (DiskSpec disk : event.disks()) {
                BackupResult failed = BackupResult.failure(new DiskJob(event, disk), reason);
                disks.add(VmResult.Disk.of(failed));
                results.send("direct:publish-result", copy(exchange, ColdcopyHeaders.RESULT, failed));
            }
            VmResult vm = new VmResult(VmResult.TYPE, event.id(), event.vm(), "failed", null, disks, List.of(), List.of(), reason);
            results.send("direct:publish-vm-result", copy(exchange, ColdcopyHeaders.VM_RESULT, vm));
        } catch (java.io.IOException | RuntimeException publishing) {
            // the dead letter still tells; a result that could not be written must not hide the refusal
        }
        return new BadEventException(reason);
    }

    private static Exchange copy(Exchange exchange, String property, Object value) {
        Exchange out = exchange.copy();
        out.setProperty(property, value);
        return out;
    }
}
