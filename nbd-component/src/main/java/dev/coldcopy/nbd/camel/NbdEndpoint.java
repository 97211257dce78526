package dev.coldcopy.nbd.camel;

import dev.coldcopy.nbd.protocol.NbdUri;
import org.apache.camel.Category;
import org.apache.camel.Consumer;
import org.apache.camel.Processor;
import org.apache.camel.Producer;
import org.apache.camel.spi.UriEndpoint;
import org.apache.camel.spi.UriParam;
import org.apache.camel.support.ScheduledPollEndpoint;

/**
 * An NBD export. As a consumer it reads the export once per poll (by default exactly once: repeatCount=1)
 * and emits one exchange per chunk; as a producer it runs {@link NbdOperations} against the endpoint's
 * export or the one named by the {@code CamelNbdUri} header.
 */
@UriEndpoint(firstVersion = "0.1.0", scheme = "nbd", title = "NBD", syntax = "nbd:transport",
             category = {Category.FILE}, headersClass = NbdConstants.class)
public class NbdEndpoint extends ScheduledPollEndpoint {

    @UriParam
    private final NbdConfiguration configuration;

    public NbdEndpoint(String uri, NbdComponent component, NbdConfiguration configuration) {
        super(uri, component);
        this.configuration = configuration;
        // one pass unless told otherwise: a backup reads its export once
        setRepeatCount(1);
    }

    public NbdConfiguration getConfiguration() {
        return configuration;
    }

    /** The export named by the endpoint, or null (a producer then needs the CamelNbdUri header). */
    NbdUri exportUri() {
        return configuration.toNbdUri();
    }

    @Override
    public NbdComponent getComponent() {
        return (NbdComponent) super.getComponent();
    }

    @Override
    public Producer createProducer() throws Exception {
        return new NbdProducer(this);
    }

    @Override
    public Consumer createConsumer(Processor processor) throws Exception {
        if (exportUri() == null) {
            throw new IllegalArgumentException("nbd consumer needs an export: socket=, host= or uri= on " + getEndpointUri());
        }
        NbdConsumer consumer = new NbdConsumer(this, processor);
        configureConsumer(consumer);
        return consumer;
    }
}
