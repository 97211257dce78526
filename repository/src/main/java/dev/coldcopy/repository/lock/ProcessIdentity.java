package dev.coldcopy.repository.lock;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/** This process as lock objects name it: host, pid and start time. */
final class ProcessIdentity {
    private ProcessIdentity() {
    }

    static String host() {
        try {
            String h = Files.readString(Path.of("/etc/hostname")).strip();
            if (!h.isEmpty()) {
                return h;
            }
        } catch (IOException | RuntimeException e) {
            // no /etc/hostname: ask the resolver
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown-host";
        }
    }

    static long pid() {
        return ProcessHandle.current().pid();
    }

    static String started() {
        return ProcessHandle.current().info().startInstant().map(Instant::toString).orElse("");
    }

    /** whether the process with this pid is running and (when known) started at that time */
    static boolean isAlive(long pid, String started) {
        Optional<ProcessHandle> p = ProcessHandle.of(pid);
        if (p.isEmpty() || !p.get().isAlive()) {
            return false;
        }
        if (started == null || started.isEmpty()) {
            return true;
        }
        return p.get().info().startInstant().map(s -> s.toString().equals(started)).orElse(true);
    }
}
