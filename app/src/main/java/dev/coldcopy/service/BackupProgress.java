package dev.coldcopy.service;

import java.io.PrintStream;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reports how far a disk backup has read: as log lines (the service, and the command line when its
 * output is not a terminal) or as a progress bar redrawn in place on a terminal. Rate-limited, so a
 * disk of many small chunks does not flood anything.
 */
public abstract class BackupProgress {
    private final long intervalNanos;
    private long last;

    protected BackupProgress(Duration interval) {
        this.intervalNanos = interval.toNanos();
    }

    /** After each chunk: how far through the disk the read is, and the bytes read so far. */
    public final synchronized void update(String label, long position, long diskSize, long bytesRead, long elapsedNanos) {
        long now = System.nanoTime();
        if (last == 0) {
            last = now;     // the first report comes one interval in: short backups stay quiet
            return;
        }
        if (now - last < intervalNanos) {
            return;
        }
        last = now;
        show(label, diskSize == 0 ? 100 : (int) (position * 100 / diskSize), bytesRead,
                bytesRead / 1048576.0 / Math.max(1e-9, elapsedNanos / 1e9));
    }

    /** Called once the disk's snapshot is committed or the backup failed. */
    public synchronized void finish(String label) {
        last = 0;
    }

    protected abstract void show(String label, int percent, long bytesRead, double mibPerSecond);

    /** A log line at most every few seconds (the default for the service). */
    public static BackupProgress logLines(Duration interval) {
        Logger log = LoggerFactory.getLogger(BackupProgress.class);
        return new BackupProgress(interval) {
            @Override
            protected void show(String label, int percent, long bytesRead, double rate) {
                log.info("{}: {}% through the disk, read {} MiB ({} MiB/s)", label, percent, bytesRead >> 20,
                        String.format("%.1f", rate));
            }
        };
    }

    /** A bar redrawn in place with carriage returns, for a terminal. */
    public static BackupProgress terminalBar(PrintStream out) {
        return new BackupProgress(Duration.ofMillis(200)) {
            @Override
            protected void show(String label, int percent, long bytesRead, double rate) {
                int filled = percent * 30 / 100;
                out.printf("\r%s [%s%s] %3d%% %,d MiB %.0f MiB/s ", label, "#".repeat(filled), ".".repeat(30 - filled),
                        percent, bytesRead >> 20, rate);
                out.flush();
            }

            @Override
            public synchronized void finish(String label) {
                super.finish(label);
                out.print("\r" + " ".repeat(80) + "\r");
                out.flush();
            }
        };
    }
}
