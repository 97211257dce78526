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
 * A refused or missing image or a running VM is a bad event: retrying cannot help. A raw top image is backed up
 * whole (it carries no dirty bitmap); see the planner.
 */
public final class InspectChainProcessor implements Processor {

    @Override
    public void process(Exchange exchange) {
        DiskBackup backup = DiskBackup.of(exchange);
        BackingChain chain;
        try {
            chain = backup.engine().inspector().inspect(backup.image(), backup.job().disk().declaredFormat());
        } catch (VmRunningException | RefusedException e) {
            throw new BadEventException(backup.label() + ": " + Reasons.oneLine(e));
        }
        backup.inspected(chain);
        exchange.getMessage().setHeader(ColdcopyHeaders.VIRTUAL_SIZE, chain.virtualSize());
    }
}
