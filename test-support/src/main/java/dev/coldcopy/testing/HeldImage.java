package dev.coldcopy.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** An image held open read-write by an interactive qemu-io, as a running VM holds its disk. */
public final class HeldImage implements AutoCloseable {
    private final Process process;
    private final OutputStream in;
    private final BufferedReader out;

    private HeldImage(Process process) {
        this.process = process;
        this.in = process.getOutputStream();
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    /** Opens the image and writes to it: qemu has then marked its bitmaps in-use. */
    static HeldImage open(Path image, String format) {
        try {
            Process p = new ProcessBuilder("qemu-io", "-f", format, image.toString()).redirectErrorStream(true).start();
            HeldImage held = new HeldImage(p);
            held.command("write -P 0x5a 0 4096", "wrote");
            return held;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
