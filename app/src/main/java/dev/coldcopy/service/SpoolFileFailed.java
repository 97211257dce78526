package dev.coldcopy.service;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.component.file.FileConstants;

/**
 * A spool event that failed for good (bean {@code spoolFileFailed}): its file moves to the spool's
 * {@code failed/}, after its dead letter is written. The spool route leaves every other failure's file
 * where it is, to be read again: an events topic out of reach while forwarding, or a dead letter that
 * could not be written, must lose no event. Does nothing for an event that did not come from the spool.
 */
public final class SpoolFileFailed implements Processor {
    static final String FAILED_DIR = "failed";

    @Override
    public void process(Exchange exchange) throws IOException {
        String path = exchange.getMessage().getHeader(FileConstants.FILE_ABSOLUTE_PATH, String.class);
        if (path == null) {
            return;
        }
        Path file = Path.of(path);
        if (!Files.exists(file)) {
            return;
        }
        Path failed = Files.createDirectories(file.resolveSibling(FAILED_DIR));
        Files.move(file, failed.resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
