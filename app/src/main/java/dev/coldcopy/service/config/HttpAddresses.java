package dev.coldcopy.service.config;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.LinkedHashSet;
import java.util.Set;
import org.apache.camel.CamelContext;

/**
 * The HTTP addresses the service listens on: the webhook server ({@code camel.server.*}) and the health
 * and metrics server ({@code camel.management.*}, by default the same address). Camel only logs a
 * warning when it cannot bind, and the service would run on without webhook, health and metrics; so the
 * addresses are tried first and a busy one stops the start with one line naming it.
 */
public final class HttpAddresses {
    private HttpAddresses() {}

    public static String describe(CamelContext camel) {
        return "http://" + camel.resolvePropertyPlaceholders("{{camel.server.host}}") + ":"
                + camel.resolvePropertyPlaceholders("{{camel.server.port}}");
    }

    /** @throws IllegalStateException naming the first address that is in use */
    public static void requireFree(CamelContext camel) {
        Set<String> addresses = new LinkedHashSet<>();
        if (enabled(camel, "camel.server.enabled")) {
            addresses.add(address(camel, "camel.server"));
        }
        if (enabled(camel, "camel.management.enabled")) {
            addresses.add(address(camel, "camel.management"));
        }
        for (String address : addresses) {
            int colon = address.lastIndexOf(':');
            String host = address.substring(0, colon);
            int port = Integer.parseInt(address.substring(colon + 1));
            if (port == 0) {
                continue; // any free port
            }
            try (ServerSocket probe = new ServerSocket()) {
                probe.setReuseAddress(true); // as the HTTP server binds: a socket in TIME_WAIT is no conflict
                probe.bind(new InetSocketAddress(InetAddress.getByName(host), port));
            } catch (BindException e) {
                throw new IllegalStateException("cannot listen on " + address + ": address already in use"
                        + " (another coldcopy or program listens there; set camel.server.port)");
            } catch (IOException e) {
                throw new IllegalStateException("cannot listen on " + address + ": " + e.getMessage());
            }
        }
    }

    private static boolean enabled(CamelContext camel, String key) {
        return Boolean.parseBoolean(camel.getPropertiesComponent().resolveProperty(key).orElse("false").strip());
    }

    private static String address(CamelContext camel, String prefix) {
        return camel.resolvePropertyPlaceholders("{{" + prefix + ".host:0.0.0.0}}").strip() + ":"
                + camel.resolvePropertyPlaceholders("{{" + prefix + ".port:8080}}").strip();
    }
}
