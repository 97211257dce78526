package dev.coldcopy.service;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.camel.CamelContext;

/**
 * Creates the {@link BackupEngine} on first use, once the Camel context (and so the configuration)
 * exists, and runs the reaper before the first backup.
 */
public final class BackupEngineHolder implements AutoCloseable {
    private BackupEngine engine;

    public synchronized BackupEngine get(CamelContext camel) {
        if (engine == null) {
            try {
                BackupEngine created = new BackupEngine(BackupSettings.from(camel), camel);
                created.reap();
                engine = created;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot prepare the work directory: " + e.getMessage(), e);
            }
        }
        return engine;
    }

    @Override
    public synchronized void close() {
        if (engine != null) {
            engine.close();
        }
    }
}
