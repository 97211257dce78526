package dev.coldcopy.nbd.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** qemu-img / qemu-io helpers to build images with known contents and dirty bitmaps. */
public final class QemuImages {
    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    private QemuImages() {
    }

    /** {@code qemu-img create -f qcow2 PATH SIZE}. */
    public static Path createQcow2(Path path, long size) {
        Tools.run(TIMEOUT, List.of("qemu-img", "create", "-q", "-f", "qcow2", path.toString(), Long.toString(size)));
        return path;
    }

    /** Runs qemu-io commands on the image, e.g. {@code "write -P 0xab 0 64k"}. */
    public static void qemuIo(Path image, String format, String... commands) {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", format));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        cmd.add(image.toString());
        String out = Tools.run(TIMEOUT, cmd);
        if (out.contains("failed") || out.contains("error")) {
            throw new IllegalStateException("qemu-io " + String.join("; ", commands) + ": " + out.strip());
        }
    }

    /** Writes the byte {@code pattern} over [offset, offset+length). */
    public static void writePattern(Path qcow2, int pattern, long offset, long length) {
        qemuIo(qcow2, "qcow2", "write -P 0x" + Integer.toHexString(pattern & 0xff) + " " + offset + " " + length);
    }

    /** {@code qemu-img bitmap --add [--disable] IMAGE NAME}. */
    public static void addBitmap(Path qcow2, String name, boolean disabled) {
        List<String> cmd = new ArrayList<>(List.of("qemu-img", "bitmap", "--add"));
        if (disabled) {
            cmd.add("--disable");
        }
        cmd.add(qcow2.toString());
        cmd.add(name);
        Tools.run(TIMEOUT, cmd);
    }

    /** {@code qemu-img bitmap --disable IMAGE NAME}. */
    public static void disableBitmap(Path qcow2, String name) {
        Tools.run(TIMEOUT, List.of("qemu-img", "bitmap", "--disable", qcow2.toString(), name));
    }

    /** {@code qemu-img convert -O raw}. */
    public static Path convertToRaw(Path image, Path raw) {
        Tools.run(TIMEOUT, List.of("qemu-img", "convert", "-O", "raw", image.toString(), raw.toString()));
        return raw;
    }

    /** {@code qemu-img convert -f raw -O qcow2} (keeps zero runs sparse). */
    public static Path convertRawToQcow2(Path raw, Path qcow2) {
        Tools.run(TIMEOUT, List.of("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw.toString(), qcow2.toString()));
        return qcow2;
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
