package dev.coldcopy.restore;

import dev.coldcopy.process.ProcessRunner;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** The few qemu-img calls a restore needs. */
final class QemuImg {
    private static final Duration SHORT = Duration.ofSeconds(60);
    private static final Duration LONG = Duration.ofHours(12);
    private static final ObjectMapper JSON = new ObjectMapper();

    private QemuImg() {
    }

    static void create(Path image, RestoreFormat format, long size) throws IOException {
        ProcessRunner.output(List.of("qemu-img", "create", "-q", "-f", format.qemuName(), image.toString(), Long.toString(size)), SHORT);
    }

    /** copies an image into a new one of the given format (sparse: unallocated and zero ranges stay holes) */
    static void convert(Path from, Path to, RestoreFormat format) throws IOException {
        ProcessRunner.output(List.of("qemu-img", "convert", "-q", "-O", format.qemuName(), from.toString(), to.toString()), LONG);
    }

    static void convertRaw(Path raw, Path to, RestoreFormat format) throws IOException {
        ProcessRunner.output(List.of("qemu-img", "convert", "-q", "-f", "raw", "-O", format.qemuName(), raw.toString(), to.toString()), LONG);
    }

    static long virtualSize(Path image) throws IOException {
        JsonNode info = JSON.readTree(ProcessRunner.output(List.of("qemu-img", "info", "--output=json", image.toString()), SHORT));
        return info.path("virtual-size").asLong(-1);
    }
}
