package dev.coldcopy.serve.camel;

import org.apache.camel.Category;
import org.apache.camel.Consumer;
import org.apache.camel.Processor;
import org.apache.camel.Producer;
import org.apache.camel.spi.UriEndpoint;
import org.apache.camel.spi.UriParam;
import org.apache.camel.support.DefaultEndpoint;

/** A disk's snapshot served over NBD while the route runs; consumer only (nothing is sent to a served snapshot). */
@UriEndpoint(firstVersion = "0.1.0", scheme = "coldcopy-serve", title = "coldcopy serve", syntax = "coldcopy-serve:vm/disk",
             consumerOnly = true, category = {Category.FILE}, headersClass = ServeConstants.class)
public class ServeEndpoint extends DefaultEndpoint {

    @UriParam
    private final ServeConfiguration configuration;

    public ServeEndpoint(String uri, ServeComponent component, ServeConfiguration configuration) {
        super(uri, component);
        this.configuration = configuration;
    }

    public ServeConfiguration getConfiguration() {
        return configuration;
    }

    @Override
    public Producer createProducer() {
        throw new UnsupportedOperationException("coldcopy-serve is a consumer only: start a route with it (from:)");
    }

    @Override
    public Consumer createConsumer(Processor processor) throws Exception {
        ServeConsumer consumer = new ServeConsumer(this, processor);
        configureConsumer(consumer);
        return consumer;
    }
}
