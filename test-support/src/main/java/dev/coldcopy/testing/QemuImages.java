package dev.coldcopy.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

/**
 * Test fixture for every module: small real qcow2 and raw images with known contents and dirty bitmaps,
 * made with qemu-img and qemu-io; their maps and comparisons; reading exports with nbdinfo. An image's
 * format is read from its first bytes (the qcow2 magic), never guessed from its name. Failures are
 * {@link IllegalStateException}s carrying the program's own words.
 */
public final class QemuImages {

    private static final Duration TIMEOUT = Duration.ofMinutes(5);
    /** "QFI\xfb", the first four bytes of every qcow2 file. */
    private static final byte[] QCOW2_MAGIC = {'Q', 'F', 'I', (byte) 0xfb};
    /** {@code qemu-img compare}: 0 identical, 1 different; anything above is an error. */
    private static final int COMPARE_DIFFERENT = 1;

    /** One extent of {@code qemu-img map}: data, or reads as zero (hole or zero cluster). */
    public record MapExtent(long start, long length, boolean data) {
        public long end() {
            return start + length;
        }
    }

    private QemuImages() {
    }

    /** Runs a program that must succeed; returns its stdout. */
    public static String run(String... command) {
        return Tools.run(TIMEOUT, List.of(command));
    }

    public static Path createQcow2(Path image, long size) {
        return createQcow2(image, Long.toString(size));
    }

    /** {@code size} as qemu-img takes it: "64M", "1G", or bytes. */
    public static Path createQcow2(Path image, String size) {
        run("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), size);
        return image;
    }

    public static Path createRaw(Path image, String size) {
        run("qemu-img", "create", "-q", "-f", "raw", image.toString(), size);
        return image;
    }

    /** A qcow2 overlay over {@code backing} (its format read from it). */
    public static Path createOverlay(Path image, Path backing) {
        run("qemu-img", "create", "-q", "-f", "qcow2", "-b", backing.toString(), "-F", format(backing), image.toString());
        return image;
    }

    public static void resize(Path image, String size) {
        run("qemu-img", "resize", "-q", image.toString(), size);
    }

    /** {@code qemu-img convert -f FORMAT_OF_FROM -O FORMAT}; unallocated and zero ranges stay holes. */
    public static Path convert(Path from, Path to, String format) {
        run("qemu-img", "convert", "-q", "-f", format(from), "-O", format, from.toString(), to.toString());
        return to;
    }

    public static Path convertToRaw(Path image, Path raw) {
        return convert(image, raw, "raw");
    }

    /** A copy in the same format. */
    public static Path copy(Path from, Path to) {
        return convert(from, to, format(from));
    }

    /** "qcow2" or "raw", from the image's first bytes. */
    public static String format(Path image) {
        try (InputStream in = Files.newInputStream(image)) {
            return Arrays.equals(in.readNBytes(QCOW2_MAGIC.length), QCOW2_MAGIC) ? "qcow2" : "raw";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static long virtualSize(Path image) {
        return FlatJson.number(run("qemu-img", "info", "--output=json", "-U", image.toString()), "virtual-size");
    }

    /** {@code qemu-img map}, adjacent extents of the same kind joined. */
    public static List<MapExtent> map(Path image) {
        List<MapExtent> out = new ArrayList<>();
        String json = run("qemu-img", "map", "--output=json", "-f", format(image), image.toString());
        for (String e : FlatJson.innermostObjects(json)) {
            boolean data = FlatJson.bool(e, "data") && !FlatJson.bool(e, "zero");
            long start = FlatJson.number(e, "start");
            long length = FlatJson.number(e, "length");
            MapExtent last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && last.data() == data && last.end() == start) {
                out.set(out.size() - 1, new MapExtent(last.start(), last.length() + length, data));
            } else {
                out.add(new MapExtent(start, length, data));
            }
        }
        return out;
    }

    /** {@code qemu-img compare}: true when both images read the same and have the same virtual size. */
    public static boolean identical(Path a, Path b) {
        if (virtualSize(a) != virtualSize(b)) {
            return false;
        }
        Tools.Result r = Tools.result(TIMEOUT, List.of("qemu-img", "compare", "-q", a.toString(), b.toString()));
        if (r.exitCode() > COMPARE_DIFFERENT) {
            r.orFail();
        }
        return r.exitCode() == 0;
    }

    /** qemu-img compare's verdict in words (for failure messages). */
    public static String compareMessage(Path a, Path b) {
        Tools.Result r = Tools.result(TIMEOUT, List.of("qemu-img", "compare", a.toString(), b.toString()));
        return (r.stdout() + r.stderr()).strip();
    }

    /** Runs qemu-io commands on the image as a guest would write: "write -P 0xab 0 1M", "write -z 4M 1M". */
    public static void io(Path image, String... commands) {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", format(image)));
        for (String c : commands) {
            cmd.addAll(List.of("-c", c));
        }
        cmd.add(image.toString());
        String out = Tools.run(TIMEOUT, cmd);
        // qemu-io exits 0 even when a command failed
        if (out.contains("failed") || out.contains("error")) {
            throw new IllegalStateException("qemu-io " + String.join("; ", commands) + ": " + out.strip());
        }
    }

    /** The byte {@code pattern} over [offset, offset + length). */
    public static void writePattern(Path image, int pattern, long offset, long length) {
        io(image, "write -P 0x" + Integer.toHexString(pattern & 0xff) + " " + offset + " " + length);
    }

    /** Random (incompressible) bytes at offset. */
    public static void writeRandom(Path image, long offset, int length, Random random) {
        byte[] data = new byte[length];
        random.nextBytes(data);
        writeBytes(image, offset, data);
    }

    /** Text-like (compressible, not repetitive) bytes at offset. */
    public static void writeText(Path image, long offset, int length, Random random) {
        String[] words = {"coldcopy", "backup", "qemu", "chunk", "snapshot", "restore", "bitmap", "the", "of", "disk", "\n"};
        StringBuilder sb = new StringBuilder(length + 16);
        while (sb.length() < length) {
            sb.append(words[random.nextInt(words.length)]).append(' ').append(random.nextInt(1000)).append(' ');
        }
        writeBytes(image, offset, sb.substring(0, length).getBytes(StandardCharsets.US_ASCII));
    }

    public static void writeBytes(Path image, long offset, byte[] data) {
        try {
            Path src = Files.createTempFile(image.toAbsolutePath().getParent(), "pattern", ".bin");
            try {
                Files.write(src, data);
                io(image, "write -q -s " + src + " " + offset + " " + data.length);
            } finally {
                Files.deleteIfExists(src);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A new enabled ("auto") persistent bitmap. */
    public static void addBitmap(Path image, String name) {
        run("qemu-img", "bitmap", "--add", image.toString(), name);
    }

    public static void addBitmap(Path image, String name, boolean disabled) {
        if (disabled) {
            run("qemu-img", "bitmap", "--add", "--disable", image.toString(), name);
        } else {
            addBitmap(image, name);
        }
    }

    public static void disableBitmap(Path image, String name) {
        run("qemu-img", "bitmap", "--disable", image.toString(), name);
    }

    /** The names of the image's persistent bitmaps (read with -U: a holder of the image does not stop it). */
    public static List<String> bitmaps(Path image) {
        List<String> names = new ArrayList<>();
        for (String o : FlatJson.innermostObjects(run("qemu-img", "info", "--output=json", "-U", image.toString()))) {
            if (FlatJson.has(o, "granularity") && FlatJson.has(o, "name")) {
                names.add(FlatJson.string(o, "name"));
            }
        }
        return names;
    }

    /**
     * A running-VM stand-in: qemu-io holding the image open read-write, waiting on stdin. Close it to let go
     * cleanly; {@link HeldImage#kill()} to crash it (bitmaps then stay {@code in-use}).
     */
    public static HeldImage holdOpen(Path image) {
        return HeldImage.open(image, format(image));
    }

    /** Opens the image read-write with qemu-io, writes, and kill -9s it: its bitmaps are left in-use. */
    public static void leaveInUse(Path image) {
        holdOpen(image).kill();
    }

    /** Extents of one meta context as {@code nbdinfo --map --json} reports them: [offset, length, type]. */
    public static List<long[]> nbdMap(String uri, String context) {
        List<long[]> extents = new ArrayList<>();
        for (String e : FlatJson.innermostObjects(run("nbdinfo", "--map=" + context, "--json", uri))) {
            extents.add(new long[] {FlatJson.number(e, "offset"), FlatJson.number(e, "length"), FlatJson.number(e, "type")});
        }
        return extents;
    }

    /** The dirty ranges [start, end) of a dirty-bitmap context, adjacent ones joined. */
    public static List<long[]> dirtyRanges(String uri, String context) {
        List<long[]> ranges = new ArrayList<>();
        for (long[] e : nbdMap(uri, context)) {
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

    /** What an export offers, meta contexts included ({@code nbdinfo --json}). */
    public static String nbdInfo(String uri) {
        return run("nbdinfo", "--json", uri);
    }

    /** qemu-nbd / qemu-storage-daemon processes whose command line mentions {@code marker}. */
    public static List<Long> serversMentioning(String marker) {
        List<Long> pids = new ArrayList<>();
        ProcessHandle.allProcesses().forEach(p -> {
            String line = cmdline(p.pid());
            if ((line.startsWith("qemu-nbd") || line.startsWith("qemu-storage-daemon") || line.contains("/qemu-nbd ")
                    || line.contains("/qemu-storage-daemon ")) && line.contains(marker)) {
                pids.add(p.pid());
            }
        });
        return pids;
    }

    /** The command line of a running process (not a zombie), empty if there is none. */
    private static String cmdline(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            int close = stat.lastIndexOf(')');
            char state = close > 0 && close + 2 < stat.length() ? stat.charAt(close + 2) : '?';
            if (state == 'Z' || state == 'X') {
                return "";
            }
            byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            return new String(raw, StandardCharsets.UTF_8).replace('\0', ' ').strip();
        } catch (IOException e) {
            return "";
        }
    }

    public static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
