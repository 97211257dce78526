package dev.coldcopy.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coldcopy.nbd.protocol.NbdClient;
import dev.coldcopy.nbd.protocol.NbdClientOptions;
import dev.coldcopy.nbd.protocol.NbdUri;
import dev.coldcopy.process.ProcessRunner;
import dev.coldcopy.qemu.ExportDirectory;
import dev.coldcopy.qemu.QemuNbdProcess;
import dev.coldcopy.qemu.QemuTools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The image a delta snapshot applies to (serve --onto), read through a private read-only qemu-nbd export
 * (see {@link QemuNbdProcess}), so any format and backing chain qemu reads works and qemu's shared lock
 * keeps a writer (a running VM) away while it is served. Never written. close() stops qemu-nbd and removes
 * its directory.
 */
public final class BaseImage implements AutoCloseable {
    private static final QemuTools QEMU = QemuTools.defaults();
    private static final Duration STOP_GRACE = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path image;
    private final ExportDirectory dir;
    private QemuNbdProcess server;
    private NbdClient client;
    private boolean closed;

    private BaseImage(Path image, ExportDirectory dir) {
        this.image = image;
        this.dir = dir;
    }

    /** starts the export; throws with qemu's one-line reason when the image cannot be opened read-only */
    public static BaseImage open(Path image) throws IOException {
        Path absolute = image.toAbsolutePath();
        if (!Files.isRegularFile(absolute)) {
            throw new IOException("base image " + absolute + " does not exist");
        }
        // probed, not assumed: the base is whatever image the user restored the full snapshot to
        JsonNode info = JSON.readTree(ProcessRunner.output(List.of(QEMU.qemuImg(), "info", "--output=json", absolute.toString()),
                QEMU.timeout()));
        BaseImage base = new BaseImage(absolute, ExportDirectory.temporary("coldcopy-serve-base-"));
        try {
            base.server = QemuNbdProcess.start(QEMU, base.dir, List.of("--read-only", "--format=" + info.path("format").asText("raw")),
                    absolute);
            base.client = NbdClient.connect(NbdUri.unix(base.server.socket(), ""),
                    NbdClientOptions.builder().ioTimeout(Duration.ofMinutes(5)).build());
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
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (client != null) {
                client.close();
            }
        } finally {
            // qemu-nbd leaves on its own when its only client disconnects; make sure
            if (server != null) {
                server.stop(STOP_GRACE);
            }
            dir.delete();
        }
    }
}
