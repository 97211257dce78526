package dev.coldcopy.service;

import java.nio.file.Path;
import java.util.Map;

/**
 * Where the service keeps its state when nothing says otherwise: {@code COLDCOPY_HOME}, else
 * {@code /var/lib/coldcopy} for root (a host service), else {@code ~/.local/share/coldcopy} (a user
 * trying it out). Spool, results, dead letters and the default repository all live under it.
 */
public final class ServiceHome {
    private ServiceHome() {}

    public static Path resolve() {
        return resolve(System.getenv());
    }

    public static Path resolve(Map<String, String> environment) {
        String env = environment.get("COLDCOPY_HOME");
        if (env != null && !env.isBlank()) {
            return Path.of(env).toAbsolutePath();
        }
        if ("root".equals(System.getProperty("user.name"))) {
            return Path.of("/var/lib/coldcopy");
        }
        return Path.of(System.getProperty("user.home"), ".local", "share", "coldcopy");
    }
}
