package dev.coldcopy.backup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import dev.coldcopy.checkpoint.CheckpointJournal;

/**
 * coldcopy's runtime state directory (mode 0700): {@code exports/} (one private directory per running
 * export: sockets, pid file, overlay), {@code journal/} (checkpoints added but not committed),
 * {@code locks/} (per-disk lock files shared by every coldcopy process on the host).
 * Production default {@value #DEFAULT}; keep it short, Unix socket paths are limited to 107 bytes.
 */
public final class RunDirectory {

    public static final String DEFAULT = "/var/lib/coldcopy/run";

    private final Path root;

    private RunDirectory(Path root) {
        this.root = root;
    }

    public static RunDirectory at(Path root) {
        Path abs = root.toAbsolutePath().normalize();
        try {
            if (!Files.isDirectory(abs)) {
                Files.createDirectories(abs);
            }
            Files.setPosixFilePermissions(abs, PosixFilePermissions.fromString("rwx------"));
            for (String sub : new String[] {"exports", "journal", "locks"}) {
                Path p = abs.resolve(sub);
                if (!Files.isDirectory(p)) {
                    Files.createDirectory(p, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare work directory " + abs, e);
        }
        return new RunDirectory(abs);
    }

    public Path root() {
        return root;
    }

    public Path exports() {
        return root.resolve("exports");
    }

    public Path locks() {
        return root.resolve("locks");
    }

    public CheckpointJournal journal() {
        return new CheckpointJournal(root.resolve("journal"));
    }

    public DiskLocks diskLocks() {
        return new DiskLocks(locks());
    }
}
