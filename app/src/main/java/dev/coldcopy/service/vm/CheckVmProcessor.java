package dev.coldcopy.service.vm;

import dev.coldcopy.domain.HostFileRef;
import dev.coldcopy.event.BackupEvent;
import dev.coldcopy.event.BadEventException;
import dev.coldcopy.event.DiskSpec;
import dev.coldcopy.security.ImageNotFoundException;
import dev.coldcopy.security.RefusedException;
import dev.coldcopy.service.BackupEngine;
import dev.coldcopy.service.BackupEngineHolder;
import dev.coldcopy.service.Reasons;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * Step {@code checkVm}: before any disk is touched, every disk image the event names is checked against the
 * allowed roots, and every host file of its domain (NVRAM, kernel, initrd, dtb) against the allowed file roots.
 * One refusal refuses the whole VM: a backup without one of its disks or files would not restore as that VM.
 * A missing file is not a refusal here: a missing image fails its own disk, a missing NVRAM (a VM never
 * started) is noted in the VM backup.
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
            check(event, "disk " + disk.target(), () -> engine.inspector().realPath(disk.image()));
        }
        for (HostFileRef file : event.domain().map(d -> d.files()).orElse(java.util.List.of())) {
            check(event, file.role() + " file", () -> engine.filePolicy().validate(file.path()));
        }
    }

    private static void check(BackupEvent event, String what, Runnable validation) {
        try {
            validation.run();
        } catch (ImageNotFoundException e) {
            // not a refusal: see the class comment
        } catch (RefusedException e) {
            throw new BadEventException(event.vm() + " refused whole (nothing was backed up): " + what + ": "
                    + Reasons.oneLine(e));
        }
    }
}
