package dev.coldcopy.nbd.camel;

import java.util.Map;
import org.apache.camel.Endpoint;
import org.apache.camel.spi.annotations.Component;
import org.apache.camel.support.DefaultComponent;

/** The {@code nbd:} component: reads and writes NBD exports (qemu-nbd, qemu-storage-daemon, nbdkit). */
@Component("nbd")
public class NbdComponent extends DefaultComponent {

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
