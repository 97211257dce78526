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
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * Step {@code checkVm}: before any disk is touched, every disk's backing chain is inspected (each image and
 * backing file inside the allowed roots, present, not held by a running VM), and every host file of its domain
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
            } catch (RefusedException | VmRunningException e) {
                throw refused(event, "disk " + disk.target(), e);
            }
        }
        for (HostFileRef file : event.domain().map(d -> d.files()).orElse(java.util.List.of())) {
            try {
                engine.filePolicy().validate(file.path());
            } catch (ImageNotFoundException e) {
                // not a refusal: see the class comment
            } catch (RefusedException e) {
                throw refused(event, file.role() + " file", e);
            }
        }
    }

    private static BadEventException refused(BackupEvent event, String what, RuntimeException e) {
        return new BadEventException(event.vm() + " refused whole (nothing was backed up): " + what + ": " + Reasons.oneLine(e));
    }
}
