package dev.coldcopy.qemu;

import dev.coldcopy.process.Processes;
import java.time.Instant;
import java.util.Optional;

/**
 * The JVM that created a piece of runtime state (an export directory, a journal entry). The reaper leaves
 * alone whatever a still-running coldcopy owns (a CLI backup running beside the service), and undoes what a
 * dead one left. Pid plus start time, so a recycled pid is not mistaken for the owner.
 */
public record ProcessOwner(long pid, long startMillis) {

    public static ProcessOwner current() {
        ProcessHandle self = ProcessHandle.current();
        return new ProcessOwner(self.pid(), self.info().startInstant().map(Instant::toEpochMilli).orElse(0L));
    }

    public boolean isAlive() {
        Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        if (handle.isEmpty() || !Processes.isRunning(pid)) {
            return false;
        }
        long start = handle.get().info().startInstant().map(Instant::toEpochMilli).orElse(0L);
        return startMillis == 0 || start == 0 || Math.abs(start - startMillis) < 2000;
    }

    public String encode() {
        return pid + " " + startMillis;
    }

    public static Optional<ProcessOwner> decode(String text) {
        try {
            String[] parts = text.trim().split("\\s+");
            return Optional.of(new ProcessOwner(Long.parseLong(parts[0]), Long.parseLong(parts[1])));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }
}
