package dev.coldcopy.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coldcopy.nbd.protocol.NbdClient;
import dev.coldcopy.nbd.protocol.NbdClientOptions;
import dev.coldcopy.nbd.protocol.NbdUri;
import dev.coldcopy.process.ProcessRunner;
import dev.coldcopy.process.Processes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

/**
 * The image a delta snapshot applies to (serve --onto), read through a private read-only qemu-nbd export
 * in a 0700 temp dir, so any format and backing chain qemu reads works and qemu's shared lock keeps a
 * writer (a running VM) away while it is served. Never written. close() stops qemu-nbd and removes the dir.
 */
public final class BaseImage implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path image;
    private final Path dir;
    private final Path pidFile;
    private NbdClient client;

    private BaseImage(Path image, Path dir) {
        this.image = image;
        this.dir = dir;
        this.pidFile = dir.resolve("qemu-nbd.pid");
    }

    /** starts the export; throws with qemu's one-line reason when the image cannot be opened read-only */
    public static BaseImage open(Path image) throws IOException {
        Path absolute = image.toAbsolutePath();
        if (!Files.isRegularFile(absolute)) {
            throw new IOException("base image " + absolute + " does not exist");
        }
        JsonNode info = JSON.readTree(ProcessRunner.output(List.of("qemu-img", "info", "--output=json", absolute.toString()), START_TIMEOUT));
        BaseImage base = new BaseImage(absolute, Files.createTempDirectory("coldcopy-serve-base-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))));
        try {
            Path socket = base.dir.resolve("nbd.sock");
            ProcessRunner.output(List.of("qemu-nbd", "--fork", "--pid-file", base.pidFile.toString(), "--read-only",
                    "--format", info.path("format").asText("raw"), "--socket", socket.toString(), absolute.toString()), START_TIMEOUT);
            base.client = NbdClient.connect(NbdUri.unix(socket, ""), NbdClientOptions.builder().ioTimeout(Duration.ofMinutes(5)).build());
            return base;
        } catch (IOException | RuntimeException e) {
            base.close();
            throw e;
        }
    }

    public Path path() {
        return image;
    }

    public long size() {
        return client.size();
    }

    /** copies [offset, offset+length) of the base into dst at dstOffset */
    void read(long offset, int length, byte[] dst, int dstOffset) throws IOException {
        client.read(offset, ByteBuffer.wrap(dst, dstOffset, length));
    }

    @Override
    public synchronized void close() {
        if (client != null) {
            client.close();
            client = null;
        }
        if (!Files.isDirectory(dir)) {
            return;
        }
        // qemu-nbd ends when its only client leaves; it is not our child (--fork), so make sure by its pid
        try {
            Processes.readPidFile(pidFile).ifPresent(pid -> Processes.terminate(pid, Duration.ofSeconds(10)));
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    Files.deleteIfExists(p);
                }
                Files.deleteIfExists(dir);
            } catch (IOException ignored) {
                // a temp dir left behind is harmless
            }
        }
    }
}
