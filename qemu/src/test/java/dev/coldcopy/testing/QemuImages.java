package dev.coldcopy.testing;

import dev.coldcopy.process.ProcessRunner;
import dev.coldcopy.process.ProcessResult;
import dev.coldcopy.process.Processes;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;


/**
 * Test fixture: builds small real qcow2 images and chains with qemu-img/qemu-io, makes the states the
 * checkpoint rules are about (in-use, disabled, resized), stands in for a running VM, and reads exports
 * with nbdinfo. Shared with modules above through the test-jar.
 */
public final class QemuImages {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();

    private QemuImages() {
    }

    public static ProcessResult run(String... cmd) {
        ProcessResult r = ProcessRunner.run(List.of(cmd), TIMEOUT);
        if (!r.succeeded()) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + r.stderr() + r.stdout());
        }
        return r;
    }

    public static Path qcow2(Path file, String size) {
        run("qemu-img", "create", "-q", "-f", "qcow2", file.toString(), size);
        return file;
    }

    public static Path raw(Path file, String size) {
        run("qemu-img", "create", "-q", "-f", "raw", file.toString(), size);
        return file;
    }

    public static Path overlay(Path file, Path backing) {
        run("qemu-img", "create", "-q", "-f", "qcow2", "-b", backing.toString(), "-F", format(backing), file.toString());
        return file;
    }

    private static String format(Path image) {
        return image.toString().endsWith(".raw") ? "raw" : "qcow2";
    }

    /** Writes {@code length} bytes of {@code pattern} at {@code offset} (as a guest would). */
    public static void write(Path image, int pattern, long offset, long length) {
        run("qemu-io", "-f", format(image), "-c", "write -P " + pattern + " " + offset + " " + length, image.toString());
    }

    public static void addBitmap(Path image, String name) {
        run("qemu-img", "bitmap", "--add", image.toString(), name);
    }

    public static void disableBitmap(Path image, String name) {
        run("qemu-img", "bitmap", "--disable", image.toString(), name);
    }

    public static void resize(Path image, String size) {
        run("qemu-img", "resize", "-q", image.toString(), size);
    }

    public static List<String> bitmaps(Path image) {
        try {
            JsonNode info = JSON.readTree(run("qemu-img", "info", "--output=json", "-U", image.toString()).stdout());
            List<String> names = new ArrayList<>();
            info.path("format-specific").path("data").path("bitmaps").forEach(b -> names.add(b.path("name").asText()));
            return names;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A running-VM stand-in: qemu-io holding the image open read-write, waiting on stdin. Close it to let go
     * cleanly; {@link HeldImage#kill()} to crash it (bitmaps then stay {@code in-use}).
     */
    public static HeldImage holdOpen(Path image) {
        try {
            Process p = new ProcessBuilder("qemu-io", "-f", format(image), image.toString()).redirectErrorStream(true).start();
            HeldImage held = new HeldImage(p);
            held.command("write -P 0x5a 0 4096", "wrote");
            return held;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Opens the image read-write with qemu-io, writes, and kill -9s it: its bitmaps are left in-use. */
    public static void leaveInUse(Path image) {
        holdOpen(image).kill();
    }

    public static final class HeldImage implements AutoCloseable {
        private final Process process;
        private final OutputStream in;
        private final BufferedReader out;

        HeldImage(Process process) {
            this.process = process;
            this.in = process.getOutputStream();
            this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        }

        /** Sends a qemu-io command and waits for a line containing {@code expect}. */
        public void command(String command, String expect) throws IOException {
            in.write((command + "\n").getBytes(StandardCharsets.UTF_8));
            in.flush();
            StringBuilder seen = new StringBuilder();
            int c;
            while ((c = out.read()) >= 0) {
                seen.append((char) c);
                if (seen.indexOf(expect) >= 0) {
                    return;
                }
            }
            throw new IllegalStateException("qemu-io ended: " + seen);
        }

        public long pid() {
            return process.pid();
        }

        public void kill() {
            process.destroyForcibly();
            waitFor();
        }

        @Override
        public void close() {
            try {
                in.close();
            } catch (IOException ignored) {
                // it exits on EOF
            }
            waitFor();
        }

        private void waitFor() {
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Extent list of one context as nbdinfo --map --json reports it: [offset, length, type]. */
    public static List<long[]> map(String uri, String context) {
        try {
            JsonNode list = JSON.readTree(run("nbdinfo", "--map=" + context, "--json", uri).stdout());
            List<long[]> extents = new ArrayList<>();
            list.forEach(e -> extents.add(new long[] {e.path("offset").asLong(), e.path("length").asLong(), e.path("type").asLong()}));
            return extents;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The dirty ranges [start, end) of a dirty-bitmap context, adjacent ones joined. */
    public static List<long[]> dirtyRanges(String uri, String context) {
        List<long[]> ranges = new ArrayList<>();
        for (long[] e : map(uri, context)) {
            if ((e[2] & 1) == 0) {
                continue;
            }
            if (!ranges.isEmpty() && ranges.get(ranges.size() - 1)[1] == e[0]) {
                ranges.get(ranges.size() - 1)[1] = e[0] + e[1];
            } else {
                ranges.add(new long[] {e[0], e[0] + e[1]});
            }
        }
        return ranges;
    }

    /** The NBD meta contexts an export offers (nbdinfo --list --json). */
    public static String contexts(String uri) {
        return run("nbdinfo", "--json", uri).stdout();
    }

    public static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** qemu-nbd / qemu-storage-daemon processes whose command line mentions {@code marker}. */
    public static List<Long> serversMentioning(String marker) {
        List<Long> pids = new ArrayList<>();
        ProcessHandle.allProcesses().forEach(p -> {
            String line = Processes.cmdline(p.pid()).map(a -> String.join(" ", a)).orElse("");
            if ((line.startsWith("qemu-nbd") || line.startsWith("qemu-storage-daemon") || line.contains("/qemu-nbd ")
                    || line.contains("/qemu-storage-daemon ")) && line.contains(marker)
                    && Processes.isRunning(p.pid())) {
                pids.add(p.pid());
            }
        });
        return pids;
    }
}
