package dev.coldcopy.backup;

import java.nio.file.Path;

/** Held while one disk is being backed up; {@link #close()} releases it (idempotent). */
public interface DiskLock extends AutoCloseable {

    Path image();

    @Override
    void close();
}
