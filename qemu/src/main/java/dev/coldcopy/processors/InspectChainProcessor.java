package dev.coldcopy.processors;

import java.nio.file.Path;

import org.apache.camel.Exchange;
import org.apache.camel.Processor;

import dev.coldcopy.qemu.BackingChain;
import dev.coldcopy.qemu.ChainInspector;

/** Reads header {@value BackupHeaders#IMAGE}, sets {@value BackupHeaders#CHAIN} (bean name e.g. {@code inspectChain}). */
public final class InspectChainProcessor implements Processor {

    private final ChainInspector inspector;

    public InspectChainProcessor(ChainInspector inspector) {
        this.inspector = inspector;
    }

    @Override
    public void process(Exchange exchange) {
        Object image = exchange.getMessage().getHeader(BackupHeaders.IMAGE);
        if (image == null) {
            throw new IllegalArgumentException("header " + BackupHeaders.IMAGE + " (the disk image path) is missing");
        }
        Path path = image instanceof Path p ? p : Path.of(image.toString());
        BackingChain chain = inspector.inspect(path);
        exchange.getMessage().setHeader(BackupHeaders.CHAIN, chain);
        exchange.getMessage().setHeader(BackupHeaders.VIRTUAL_SIZE, chain.virtualSize());
    }
}
