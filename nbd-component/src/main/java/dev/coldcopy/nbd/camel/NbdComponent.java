package dev.coldcopy.nbd.camel;

import dev.coldcopy.nbd.protocol.NbdClient;
import dev.coldcopy.nbd.protocol.NbdUri;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.camel.Endpoint;
import org.apache.camel.spi.annotations.Component;
import org.apache.camel.support.DefaultComponent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The {@code nbd:} component: reads and writes NBD exports (qemu-nbd, qemu-storage-daemon, nbdkit). */
@Component("nbd")
public class NbdComponent extends DefaultComponent {

    private static final Logger LOG = LoggerFactory.getLogger(NbdComponent.class);

    /** Something to do on a connection. */
    @FunctionalInterface
    interface ClientAction {
        void run(NbdClient client) throws Exception;
    }

    /** Write connections, one per export, shared by every nbd: endpoint of this component. */
    private final Map<NbdUri, NbdClient> writers = new HashMap<>();

    /**
     * Runs an action on the shared write connection to {@code uri}, opening it on first use. Sharing it
     * across endpoints means {@code write} and a later {@code flush} or {@code disconnect} use one
     * connection even when they are different endpoint URIs (a writable qemu-nbd serves one client at a
     * time unless started with --shared). After a failure the connection is closed and dropped, so the
     * next exchange reconnects.
     */
    void withWriter(NbdUri uri, NbdConfiguration config, ClientAction action) throws Exception {
        NbdClient client;
        synchronized (writers) {
            client = writers.get(uri);
            if (client == null) {
                client = NbdConnector.connect(uri, config, List.of());
                writers.put(uri, client);
            }
        }
        try {
            action.run(client);
        } catch (Exception e) {
            disconnect(uri, client);
            throw e;
        }
    }

    /** Closes the shared write connection to {@code uri}, if any (the disconnect operation). */
    void disconnect(NbdUri uri) {
        disconnect(uri, null);
    }

    private void disconnect(NbdUri uri, NbdClient expected) {
        NbdClient client;
        synchronized (writers) {
            client = writers.get(uri);
            if (client == null || (expected != null && client != expected)) {
                return;
            }
            writers.remove(uri);
        }
        try {
            client.close();
        } catch (RuntimeException e) {
            LOG.debug("closing NBD connection to {} failed: {}", uri, e.toString());
        }
    }

    @Override
    protected void doStop() throws Exception {
        List<NbdUri> open;
        synchronized (writers) {
            open = new ArrayList<>(writers.keySet());
        }
        open.forEach(this::disconnect);
        super.doStop();
    }

    @Override
    protected Endpoint createEndpoint(String uri, String remaining, Map<String, Object> parameters) throws Exception {
        NbdConfiguration configuration = new NbdConfiguration();
        configuration.setTransport(remaining);
        NbdEndpoint endpoint = new NbdEndpoint(uri, this, configuration);
        // the NBD options live on the configuration, the scheduler/consumer options on the endpoint
        setProperties(configuration, parameters);
        setProperties(endpoint, parameters);
        configuration.validate();
        configuration.toNbdUri(); // a malformed export fails here, at route start, with its reason
        return endpoint;
    }
}
