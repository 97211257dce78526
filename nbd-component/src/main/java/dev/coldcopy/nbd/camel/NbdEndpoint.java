package dev.coldcopy.nbd.camel;

import dev.coldcopy.nbd.protocol.NbdClient;
import dev.coldcopy.nbd.protocol.NbdUri;
import java.util.List;
import org.apache.camel.Category;
import org.apache.camel.Consumer;
import org.apache.camel.Processor;
import org.apache.camel.Producer;
import org.apache.camel.spi.UriEndpoint;
import org.apache.camel.spi.UriParam;
import org.apache.camel.support.ScheduledPollEndpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An NBD export. As a consumer it reads the export once per poll (by default exactly once: repeatCount=1)
 * and emits one exchange per chunk; as a producer it runs {@link NbdOperations} against the endpoint's
 * export or the one named by the {@code CamelNbdUri} header.
 */
@UriEndpoint(firstVersion = "0.1.0", scheme = "nbd", title = "NBD", syntax = "nbd:transport",
             category = {Category.FILE}, headersClass = NbdConstants.class)
public class NbdEndpoint extends ScheduledPollEndpoint {

    private static final Logger LOG = LoggerFactory.getLogger(NbdEndpoint.class);

    @UriParam
    private final NbdConfiguration configuration;
    private NbdUri writerUri;
    private NbdClient writer;

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

    /** Something to do on a connection. */
    @FunctionalInterface
    interface ClientAction {
        void run(NbdClient client) throws Exception;
    }

    /**
     * Runs an action on the endpoint's write connection, shared by every producer of this endpoint, so
     * that {@code write} and a later {@code flush} in the same route use one connection (a writable
     * qemu-nbd serves one client at a time unless started with --shared). The connection is opened on
     * first use, replaced when the export changes, dropped after a failure, closed when the endpoint stops.
     */
    synchronized void withWriter(NbdUri uri, ClientAction action) throws Exception {
        if (writer != null && !uri.equals(writerUri)) {
            closeWriter();
        }
        if (writer == null) {
            writer = NbdConnector.connect(uri, configuration, List.of());
            writerUri = uri;
        }
        try {
            action.run(writer);
        } catch (Exception e) {
            closeWriter();
            throw e;
        }
    }

    private synchronized void closeWriter() {
        if (writer != null) {
            try {
                writer.close();
            } catch (RuntimeException e) {
                LOG.debug("closing NBD connection to {} failed: {}", writerUri, e.toString());
            }
            writer = null;
            writerUri = null;
        }
    }

    @Override
    protected void doStop() throws Exception {
        closeWriter();
        super.doStop();
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
