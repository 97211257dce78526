package dev.coldcopy.service.steps;

import dev.coldcopy.event.BadEventException;
import dev.coldcopy.qemu.BackingChain;
import dev.coldcopy.qemu.VmRunningException;
import dev.coldcopy.security.RefusedException;
import dev.coldcopy.service.ColdcopyHeaders;
import dev.coldcopy.service.Reasons;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * Step {@code inspectChain}: walks the locked disk's backing chain one layer at a time, each backing file
 * checked against the allowed roots before anything opens it. Out: header {@value ColdcopyHeaders#VIRTUAL_SIZE}.
 * A refused or missing image, a running VM or a top image that is not qcow2 is a bad event: retrying cannot help.
 */
public final class InspectChainProcessor implements Processor {

    @Override
    public void process(Exchange exchange) {
        DiskBackup backup = DiskBackup.of(exchange);
        BackingChain chain;
        try {
            chain = backup.engine().inspector().inspect(backup.image());
        } catch (VmRunningException | RefusedException e) {
            throw new BadEventException(backup.label() + ": " + Reasons.oneLine(e));
        }
        if (!chain.top().isQcow2()) {
            throw new BadEventException(backup.label() + ": " + chain.top().path() + " is " + chain.top().format()
                    + ", not qcow2: coldcopy backs up qcow2 disks only");
        }
        backup.inspected(chain);
        exchange.getMessage().setHeader(ColdcopyHeaders.VIRTUAL_SIZE, chain.virtualSize());
    }
}
