package dev.coldcopy.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coldcopy.process.ProcessRunner;
import dev.coldcopy.restore.PrivateNbdExport;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The image a delta snapshot applies to (serve --onto), read through a private read-only qemu-nbd export
 * (see {@link PrivateNbdExport}), so any format and backing chain qemu reads works and qemu's shared lock
 * keeps a writer (a running VM) away while it is served. Never written. close() stops qemu-nbd and removes
 * its directory.
 */
public final class BaseImage implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration INFO_TIMEOUT = Duration.ofSeconds(60);

    private final Path image;
    private final PrivateNbdExport export;

    private BaseImage(Path image, PrivateNbdExport export) {
        this.image = image;
        this.export = export;
    }

    /** starts the export; throws with qemu's one-line reason when the image cannot be opened read-only */
    public static BaseImage open(Path image) throws IOException {
        Path absolute = image.toAbsolutePath();
        if (!Files.isRegularFile(absolute)) {
            throw new IOException("base image " + absolute + " does not exist");
        }
        // probed, not assumed: the base is whatever image the user restored the full snapshot to
        JsonNode info = JSON.readTree(ProcessRunner.output(List.of("qemu-img", "info", "--output=json", absolute.toString()), INFO_TIMEOUT));
        return new BaseImage(absolute, PrivateNbdExport.open("coldcopy-serve-base-", absolute,
                List.of("--read-only", "--format=" + info.path("format").asText("raw"))));
    }

    public Path path() {
        return image;
    }

    public long size() {
        return export.client().size();
    }

    /** copies [offset, offset+length) of the base into dst at dstOffset */
    void read(long offset, int length, byte[] dst, int dstOffset) throws IOException {
        export.client().read(offset, ByteBuffer.wrap(dst, dstOffset, length));
    }

    @Override
    public void close() {
        export.close();
    }
}
