package dev.coldcopy.qemu;

import dev.coldcopy.process.ProcessRunner;
import dev.coldcopy.process.ProcessResult;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Where the qemu programs are and how long each may run, plus the few {@code qemu-img} commands coldcopy
 * needs. Every call goes through {@link ProcessRunner}: an argument list, a timeout, stderr in the error.
 *
 * <p>Only two commands here write to an image, both only to the top image of a stopped VM:
 * {@link #addBitmap} and {@link #removeBitmap} (plus {@link #createOverlay}/{@link #mergeBitmap}, which write
 * only to coldcopy's own throw-away overlay). {@link #create}, {@link #convert} and {@link #io} write only to
 * images coldcopy makes itself (a restore's output, the demo's scratch disk).
 */
public final class QemuTools {

    /** qemu's words when another process holds the image: "Failed to get "write" lock", "Failed to get shared "write" lock". */
    private static final Pattern LOCK_ERROR = Pattern.compile("Failed to get (shared )?\"[a-z ]+\" lock");
    /** {@code qemu-img compare}: 0 identical, 1 different; anything above is an error. */
    private static final int COMPARE_DIFFERENT = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String qemuImg;
    private final String qemuIo;
    private final String qemuNbd;
    private final String qemuStorageDaemon;
    private final Duration timeout;

    public QemuTools(String qemuImg, String qemuIo, String qemuNbd, String qemuStorageDaemon, Duration timeout) {
        this.qemuImg = Objects.requireNonNull(qemuImg);
        this.qemuIo = Objects.requireNonNull(qemuIo);
        this.qemuNbd = Objects.requireNonNull(qemuNbd);
        this.qemuStorageDaemon = Objects.requireNonNull(qemuStorageDaemon);
        this.timeout = Objects.requireNonNull(timeout);
    }

    /** The programs as found on PATH, 60 s per call. */
    public static QemuTools defaults() {
        return new QemuTools("qemu-img", "qemu-io", "qemu-nbd", "qemu-storage-daemon", Duration.ofSeconds(60));
    }

    public QemuTools withTimeout(Duration newTimeout) {
        return new QemuTools(qemuImg, qemuIo, qemuNbd, qemuStorageDaemon, newTimeout);
    }

    public String qemuImg() {
        return qemuImg;
    }

    public String qemuIo() {
        return qemuIo;
    }

    public String qemuNbd() {
        return qemuNbd;
    }

    public String qemuStorageDaemon() {
        return qemuStorageDaemon;
    }

    public Duration timeout() {
        return timeout;
    }

    /**
     * {@code qemu-img info --output=json -f FORMAT IMAGE}: that one file, its backing file not opened (no
     * {@code --backing-chain}) and its format not probed. Without {@code -U}, on purpose: a VM holding the
     * image makes it fail with a lock error.
     */
    public String info(Path image, String format) {
        return check(ProcessRunner.run(List.of(qemuImg, "info", "--output=json", "-f", format, image.toString()),
                timeout), "qemu-img info " + image).stdout();
    }

    /** {@code qemu-img bitmap --add [-g G] IMAGE NAME}: a new enabled ("auto") persistent bitmap. */
    public void addBitmap(Path image, String name, long granularity) {
        List<String> cmd = new ArrayList<>(List.of(qemuImg, "bitmap", "--add"));
        if (granularity > 0) {
            cmd.addAll(List.of("-g", Long.toString(granularity)));
        }
        cmd.addAll(List.of(image.toString(), name));
        check(ProcessRunner.runToCompletion(cmd, timeout), "qemu-img bitmap --add " + name + " to " + image);
    }

    /** {@code qemu-img bitmap --remove IMAGE NAME}. */
    public void removeBitmap(Path image, String name) {
        check(ProcessRunner.runToCompletion(List.of(qemuImg, "bitmap", "--remove", image.toString(), name), timeout),
                "qemu-img bitmap --remove " + name + " from " + image);
    }

    /** {@code qemu-img create -f qcow2 -b BACKING -F FMT OVERLAY}: a throw-away overlay over a (read-only) image. */
    public void createOverlay(Path overlay, Path backing, String backingFormat) {
        check(ProcessRunner.runToCompletion(List.of(qemuImg, "create", "-q", "-f", "qcow2", "-b", backing.toString(),
                "-F", backingFormat, overlay.toString()), timeout), "qemu-img create overlay on " + backing);
    }

    /** {@code qemu-img bitmap --merge SOURCE -b LAYER -F FMT OVERLAY TARGET}: reads LAYER, writes only OVERLAY. */
    public void mergeBitmap(Path overlay, String target, Path sourceImage, String sourceFormat, String sourceBitmap) {
        check(ProcessRunner.runToCompletion(List.of(qemuImg, "bitmap", "--merge", sourceBitmap, "-b",
                sourceImage.toString(), "-F", sourceFormat, overlay.toString(), target), timeout),
                "qemu-img bitmap --merge " + sourceBitmap + " from " + sourceImage);
    }

    /**
     * {@code qemu-img info --output=json IMAGE}, format probed: the virtual size of an image whose format the
     * caller does not know (a restore's base image).
     */
    public long virtualSize(Path image) {
        String json = check(ProcessRunner.run(List.of(qemuImg, "info", "--output=json", image.toString()), timeout),
                "qemu-img info " + image).stdout();
        try {
            return JSON.readTree(json).path("virtual-size").asLong(-1);
        } catch (IOException e) {
            throw new UncheckedIOException("qemu-img info " + image + " printed no JSON", e);
        }
    }

    /**
     * {@code qemu-img create -q -f FORMAT IMAGE SIZE}: a new, empty image. This and {@link #convert} and
     * {@link #io} may be interrupted (killed): what they write is a new file its caller deletes on failure.
     */
    public void create(Path image, String format, long size) {
        check(ProcessRunner.run(List.of(qemuImg, "create", "-q", "-f", format, image.toString(),
                Long.toString(size)), timeout), "qemu-img create " + image);
    }

    /** {@code qemu-img convert -q -O FORMAT FROM TO}: sparse, unallocated and zero ranges stay holes. */
    public void convert(Path from, Path to, String format) {
        check(ProcessRunner.run(List.of(qemuImg, "convert", "-q", "-O", format, from.toString(),
                to.toString()), timeout), "qemu-img convert " + from + " to " + to);
    }

    /**
     * {@code qemu-img compare -f FMT_A -F FMT_B A B}: qemu's verdict ("Images are identical." or where they
     * first differ); fails only when the comparison itself could not be made.
     */
    public String compare(Path a, String formatA, Path b, String formatB) {
        ProcessResult r = ProcessRunner.run(List.of(qemuImg, "compare", "-f", formatA, "-F", formatB, a.toString(),
                b.toString()), timeout);
        return (r.exitCode() == COMPARE_DIFFERENT ? r : check(r, "qemu-img compare " + a + " " + b)).stdout().strip();
    }

    /** {@code qemu-io -f FORMAT -c COMMAND... IMAGE}, e.g. {@code "write -P 0x61 16M 8M"}. */
    public void io(Path image, String format, String... commands) {
        List<String> cmd = new ArrayList<>(List.of(qemuIo, "-f", format));
        for (String c : commands) {
            cmd.addAll(List.of("-c", c));
        }
        cmd.add(image.toString());
        check(ProcessRunner.run(cmd, timeout), "qemu-io " + image);
    }

    /**
     * Turns a failed run into the right exception: a lock error means another process (a VM) has the image
     * open for writing.
     */
    public static ProcessResult check(ProcessResult result, String what) {
        if (result.succeeded()) {
            return result;
        }
        String message = result.stderrOneLine();
        if (isLockError(message)) {
            throw new VmRunningException(message);
        }
        throw new QemuException(what + " failed (exit " + result.exitCode() + "): "
                + (message.isEmpty() ? "no message" : message));
    }

    public static boolean isLockError(String qemuMessage) {
        return LOCK_ERROR.matcher(qemuMessage).find();
    }
}
