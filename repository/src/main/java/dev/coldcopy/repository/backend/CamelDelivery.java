package dev.coldcopy.repository.backend;

import dev.coldcopy.repository.RepositoryException;
import dev.coldcopy.repository.RepositoryUri;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.camel.CamelContext;
import org.apache.camel.Endpoint;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;

/** Sends objects to one Camel endpoint with a ProducerTemplate; failures become one-line RepositoryExceptions. */
public final class CamelDelivery implements AutoCloseable {
    private final String endpointUri;
    private final String keyHeader;
    private final Endpoint endpoint;
    private final ProducerTemplate template;
    private final AtomicLong puts = new AtomicLong();

    CamelDelivery(CamelContext context, String endpointUri, String keyHeader) {
        this.endpointUri = endpointUri;
        this.keyHeader = keyHeader;
        this.endpoint = context.getEndpoint(endpointUri);
        this.template = context.createProducerTemplate();
    }

    Endpoint endpoint() {
        return endpoint;
    }

    /** sends one object; returns the exchange, whose message carries what the endpoint answered (an ETag, say) */
    Exchange send(String key, String headerValue, byte[] data, Map<String, Object> extraHeaders) throws RepositoryException {
        Exchange result = template.send(endpoint, exchange -> {
            exchange.getIn().setBody(data);
            exchange.getIn().setHeader(keyHeader, headerValue);
            extraHeaders.forEach(exchange.getIn()::setHeader);
        });
        Exception failure = result.getException();
        if (failure != null) {
            throw new RepositoryException("storing " + key + " through " + RepositoryUri.redact(endpoint.getEndpointBaseUri())
                    + " failed: " + describe(failure), failure);
        }
        puts.incrementAndGet();
        return result;
    }

    /** counts an object the backend wrote around the endpoint (a multipart upload) */
    void count() {
        puts.incrementAndGet();
    }

    long puts() {
        return puts.get();
    }

    static String describe(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String msg = root.getMessage() == null ? root.getClass().getSimpleName() : root.getClass().getSimpleName() + ": " + root.getMessage();
        return RepositoryUri.redact(msg.replace('\n', ' '));
    }

    @Override
    public void close() {
        try {
            template.stop();
        } catch (RuntimeException e) {
            // closing is best effort
        }
    }
}
