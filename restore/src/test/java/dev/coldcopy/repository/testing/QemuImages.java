package dev.coldcopy.repository.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coldcopy.process.ProcessResult;
import dev.coldcopy.process.ProcessRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Test images made with the real qemu tools. */
public final class QemuImages {
    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** one extent of {@code qemu-img map}: data, or reads as zero (hole or zero cluster) */
    public record MapExtent(long start, long length, boolean data) {
        public long end() {
            return start + length;
        }
    }

    private QemuImages() {
    }

    public static Path createQcow2(Path image, long size) throws IOException {
        ProcessRunner.output(List.of("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), Long.toString(size)), TIMEOUT);
        return image;
    }

    /** runs qemu-io commands on an image ("write -P 0xab 0 1M", "write -z 4M 1M", ...) */
    public static void io(Path image, String... commands) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", format(image)));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        cmd.add(image.toString());
        ProcessRunner.output(cmd, TIMEOUT);
    }

    /** writes random (incompressible) bytes at offset */
    public static void writeRandom(Path image, long offset, int length, Random random) throws IOException {
        byte[] data = new byte[length];
        random.nextBytes(data);
        writeBytes(image, offset, data);
    }

    /** writes text-like (compressible, not repetitive) bytes at offset */
    public static void writeText(Path image, long offset, int length, Random random) throws IOException {
        String[] words = {"coldcopy", "backup", "qemu", "chunk", "snapshot", "restore", "bitmap", "the", "of", "disk", "\n"};
        StringBuilder sb = new StringBuilder(length + 16);
        while (sb.length() < length) {
            sb.append(words[random.nextInt(words.length)]).append(' ').append(random.nextInt(1000)).append(' ');
        }
        writeBytes(image, offset, sb.substring(0, length).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    public static void writeBytes(Path image, long offset, byte[] data) throws IOException {
        Path src = Files.createTempFile(image.getParent(), "pattern", ".bin");
        try {
            Files.write(src, data);
            io(image, "write -q -s " + src + " " + offset + " " + data.length);
        } finally {
            Files.deleteIfExists(src);
        }
    }

    public static void convert(Path from, Path to, String format) throws IOException {
        ProcessRunner.output(List.of("qemu-img", "convert", "-q", "-O", format, from.toString(), to.toString()), TIMEOUT);
    }

    public static void copy(Path from, Path to) throws IOException {
        convert(from, to, format(from));
    }

    /** qemu-img compare: true when both images read identically and have the same virtual size */
    public static boolean identical(Path a, Path b) throws IOException {
        if (virtualSize(a) != virtualSize(b)) {
            return false;
        }
        ProcessResult r = ProcessRunner.run(List.of("qemu-img", "compare", "-q", a.toString(), b.toString()), TIMEOUT);
        if (r.exitCode() > 1) {
            throw new IOException("qemu-img compare failed (exit " + r.exitCode() + "): " + r.stderrOneLine());
        }
        return r.exitCode() == 0;
    }

    /** qemu-img compare's verdict in words (for failure messages) */
    public static String compareMessage(Path a, Path b) {
        ProcessResult r = ProcessRunner.run(List.of("qemu-img", "compare", a.toString(), b.toString()), TIMEOUT);
        return (r.stdout() + r.stderrOneLine()).strip();
    }

    public static List<MapExtent> map(Path image) throws IOException {
        JsonNode arr = JSON.readTree(ProcessRunner.output(List.of("qemu-img", "map", "--output=json", "-f", format(image), image.toString()), TIMEOUT));
        List<MapExtent> out = new ArrayList<>();
        for (JsonNode n : arr) {
            boolean data = n.path("data").asBoolean() && !n.path("zero").asBoolean();
            long start = n.path("start").asLong();
            long length = n.path("length").asLong();
            if (!out.isEmpty() && out.get(out.size() - 1).data() == data && out.get(out.size() - 1).end() == start) {
                MapExtent prev = out.remove(out.size() - 1);
                out.add(new MapExtent(prev.start(), prev.length() + length, data));
            } else {
                out.add(new MapExtent(start, length, data));
            }
        }
        return out;
    }

    public static long virtualSize(Path image) throws IOException {
        return JSON.readTree(ProcessRunner.output(List.of("qemu-img", "info", "--output=json", image.toString()), TIMEOUT))
                .path("virtual-size").asLong();
    }

    public static String format(Path image) {
        return image.getFileName().toString().endsWith(".qcow2") ? "qcow2" : "raw";
    }
}
