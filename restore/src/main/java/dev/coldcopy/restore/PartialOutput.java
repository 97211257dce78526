package dev.coldcopy.restore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A restore's output while it is being written. If the JVM is asked to stop meanwhile (Ctrl-C, SIGTERM)
 * a shutdown hook closes the sink (stopping a qemu-nbd and removing its socket directory) and deletes the
 * output: an image that is only partly written must not be left where it looks like a finished restore.
 */
final class PartialOutput {
    private final Path output;
    private final Thread hook;
    private volatile DiskSink sink;
    private volatile boolean finished;

    PartialOutput(Path output) {
        this.output = output;
        this.hook = new Thread(this::interrupted, "coldcopy-restore-interrupted");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    <T extends DiskSink> T writingThrough(T sink) {
        this.sink = sink;
        return sink;
    }

    private void interrupted() {
        if (finished) {
            return;
        }
        System.err.println("interrupted: removing the partial restore " + output);
        System.err.flush();
        try {
            DiskSink s = sink;
            if (s != null) {
                s.close();
            }
        } catch (Exception e) {
            // the output goes all the same
        }
        try {
            Files.deleteIfExists(output);
        } catch (IOException e) {
            System.err.println("could not remove " + output + ": " + e.getMessage());
        }
    }

    /** The restore ended (well or not); its own error handling takes over. */
    void finished() {
        finished = true;
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down: the hook sees finished and does nothing
        }
    }
}
