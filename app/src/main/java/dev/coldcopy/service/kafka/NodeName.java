package dev.coldcopy.service.kafka;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** The host's name, as {@code hostname} prints it: the default name of a node of the fleet. */
final class NodeName {
    /** The kernel's host name: no DNS look-up, which may hang or answer with another name. */
    private static final Path KERNEL_HOSTNAME = Path.of("/proc/sys/kernel/hostname");

    private NodeName() {}

    static String host() {
        try {
            String name = Files.readString(KERNEL_HOSTNAME, StandardCharsets.UTF_8).strip();
            if (!name.isEmpty()) {
                return name;
            }
        } catch (IOException e) {
            // not Linux: ask the JDK
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }
}
