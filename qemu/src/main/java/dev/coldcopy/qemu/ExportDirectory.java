package dev.coldcopy.qemu;

import dev.coldcopy.process.ProcessResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The private (0700) directory of one export: its sockets, pid file, log and overlay live here and nowhere
 * else, so cleaning up is deleting one directory. An {@value #OWNER} file records which JVM made it and
 * which program serves it, for the reaper.
 */
public final class ExportDirectory {

    static final String OWNER = "owner";
    /** sun_path is 108 bytes including the terminating NUL. */
    private static final int MAX_SOCKET_PATH = 107;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final FileAttribute<Set<PosixFilePermission>> PRIVATE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

    private final Path dir;

    private ExportDirectory(Path dir) {
        this.dir = dir;
    }

    public static ExportDirectory create(Path exportsDir, String program) {
        try {
            Files.createDirectories(exportsDir);
            while (true) {
                byte[] id = new byte[4];
                RANDOM.nextBytes(id);
                Path dir = exportsDir.resolve("e-" + HexFormat.of().formatHex(id));
                try {
                    Files.createDirectory(dir, PRIVATE);
                } catch (FileAlreadyExistsException e) {
                    continue;
                }
                ExportDirectory export = new ExportDirectory(dir);
                if (dir.toString().contains(",")) {
                    export.delete();
                    throw new QemuException("work directory " + exportsDir + " contains ',', which qemu options cannot take");
                }
                checkSocketLength(export);
                Files.writeString(dir.resolve(OWNER), ProcessOwner.current().encode() + "\n" + program + "\n");
                return export;
            }
        } catch (IOException e) {
            throw new QemuException("cannot create an export directory in " + exportsDir + ": " + e.getMessage(), e);
        }
    }

    /**
     * A new private directory under {@code java.io.tmpdir} named {@code PREFIX...}, for a server that lives
     * only as long as one command (a restore's writable qemu-nbd). No owner file: the reaper never looks there.
     */
    public static ExportDirectory temporary(String prefix) throws IOException {
        Path dir = Files.createTempDirectory(prefix, PRIVATE);
        ExportDirectory export = new ExportDirectory(dir);
        checkSocketLength(export);
        return export;
    }

    /** A socket path longer than sun_path cannot be bound: refuse (and delete) the directory now. */
    private static void checkSocketLength(ExportDirectory export) {
        if (export.socket().toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH) {
            export.delete();
            throw new QemuException("socket path " + export.socket() + " is longer than " + MAX_SOCKET_PATH
                    + " bytes: configure a shorter work directory");
        }
    }

    /** An existing directory (for the reaper). */
    public static ExportDirectory existing(Path dir) {
        return new ExportDirectory(dir);
    }

    public Path path() {
        return dir;
    }

    public Path socket() {
        return dir.resolve("nbd.sock");
    }

    public Path qmpSocket() {
        return dir.resolve("qmp.sock");
    }

    public Path pidFile() {
        return dir.resolve("server.pid");
    }

    public Path log() {
        return dir.resolve("server.log");
    }

    public Path overlay() {
        return dir.resolve("overlay.qcow2");
    }

    public Optional<ProcessOwner> owner() {
        return ownerLines().flatMap(lines -> ProcessOwner.decode(lines.get(0)));
    }

    public Optional<String> program() {
        return ownerLines().filter(lines -> lines.size() > 1).map(lines -> lines.get(1).trim());
    }

    private Optional<List<String>> ownerLines() {
        try {
            List<String> lines = Files.readAllLines(dir.resolve(OWNER));
            return lines.isEmpty() ? Optional.empty() : Optional.of(lines);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The server's log, folded onto one line (qemu's error messages). */
    public String logText() {
        try {
            return ProcessResult.oneLine(Files.readString(log()));
        } catch (IOException e) {
            return "";
        }
    }

    /** Deletes the directory and everything in it (sockets, overlay, pid file). Missing is fine. */
    public void delete() {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (NoSuchFileException e) {
            // already gone
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete export directory " + dir, e);
        }
    }

    @Override
    public String toString() {
        return dir.toString();
    }
}
