package dev.coldcopy.nbd.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Private temporary directories for server sockets (Unix socket paths must stay under 108 bytes). */
final class SocketDirs {
    private SocketDirs() {
    }

    static Path create() {
        try {
            Path base = Path.of(System.getProperty("java.io.tmpdir"));
            if (base.toAbsolutePath().toString().length() > 60) {
                base = Path.of("/tmp");
            }
            Files.createDirectories(base);
            return Files.createTempDirectory(base, "nbd");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void delete(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
