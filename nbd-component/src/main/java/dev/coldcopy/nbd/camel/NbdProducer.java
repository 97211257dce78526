package dev.coldcopy.nbd.camel;

import dev.coldcopy.nbd.protocol.ExportInfo;
import dev.coldcopy.nbd.protocol.Extent;
import dev.coldcopy.nbd.protocol.NbdClient;
import dev.coldcopy.nbd.protocol.NbdUri;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.apache.camel.Exchange;
import org.apache.camel.InvalidPayloadException;
import org.apache.camel.Message;
import org.apache.camel.support.DefaultProducer;

/**
 * Runs one {@link NbdOperations operation} per exchange against the endpoint's export, or against the
 * export the CamelNbdUri header names (exports that exist only while a backup runs).
 *
 * <p>{@code chunks}, {@code extents} and {@code info} open a connection of their own ({@code chunks} hands
 * it to the iterator, which closes it when exhausted or closed). {@code write}, {@code writeZeroes} and
 * {@code flush} share one write connection per export across the whole component (see
 * {@link NbdComponent#withWriter}), so a stream of chunk writes does not reconnect for each chunk and a
 * flush covers the writes before it; {@code disconnect} closes it when the stream is done.
 */
public class NbdProducer extends DefaultProducer {

    private final NbdEndpoint endpoint;

    public NbdProducer(NbdEndpoint endpoint) {
        super(endpoint);
        this.endpoint = endpoint;
    }

    @Override
    public void process(Exchange exchange) throws Exception {
        NbdConfiguration config = endpoint.getConfiguration();
        Message in = exchange.getIn();
        NbdOperations operation = operation(in, config);
        NbdUri uri = exportUri(in);
        String metaContext = in.getHeader(NbdConstants.META_CONTEXT, config.getMetaContext(), String.class);
        switch (operation) {
            case chunks -> chunks(exchange, uri, config, metaContext);
            case extents -> extents(in, uri, config, metaContext);
            case info -> info(in, uri, config);
            case list -> list(in, uri, config);
            case write -> write(in, uri, config);
            case writeZeroes -> writeZeroes(in, uri, config);
            case flush -> withWriter(uri, config, NbdClient::flush);
            case disconnect -> endpoint.getComponent().disconnect(uri);
            default -> throw new IllegalArgumentException("nbd: unsupported operation " + operation);
        }
    }

    private static NbdOperations operation(Message in, NbdConfiguration config) {
        Object header = in.getHeader(NbdConstants.OPERATION);
        if (header == null) {
            return config.getOperation();
        }
        if (header instanceof NbdOperations op) {
            return op;
        }
        try {
            return NbdOperations.valueOf(header.toString());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("nbd: unknown operation '" + header + "' in header "
                    + NbdConstants.OPERATION + " (use chunks, extents, write, writeZeroes, flush, info, list or disconnect)");
        }
    }

    private NbdUri exportUri(Message in) {
        String header = in.getHeader(NbdConstants.URI, String.class);
        if (header != null && !header.isBlank()) {
            return NbdUri.parse(header);
        }
        NbdUri uri = endpoint.exportUri();
        if (uri == null) {
            throw new IllegalArgumentException("nbd: no export named: set header " + NbdConstants.URI
                    + " or the endpoint's socket=, host= or uri= option");
        }
        return uri;
    }

    private void chunks(Exchange exchange, NbdUri uri, NbdConfiguration config, String metaContext) throws IOException {
        // the same contract as the consumer: an empty plan still yields one NONE chunk marked last
        NbdChunkIterator chunks = NbdConnector.openChunks(uri, config, metaContext, true)
                .stopWhen(() -> exchange.getException() != null || exchange.isRollbackOnly() || exchange.isRouteStop());
        Message in = exchange.getIn();
        if ("chunk".equals(config.getOutputType())) {
            in.setBody(chunks);
        } else {
            in.setBody(NbdChunkMessages.messages(exchange.getContext(), chunks, new HashMap<>(in.getHeaders())));
        }
    }

    private static void extents(Message in, NbdUri uri, NbdConfiguration config, String metaContext) throws IOException {
        try (NbdClient client = NbdConnector.connect(uri, config, List.of(metaContext))) {
            NbdConnector.requireContext(client, uri, metaContext);
            long offset = in.getHeader(NbdConstants.OFFSET, 0L, Long.class);
            long length = in.getHeader(NbdConstants.LENGTH, client.size() - offset, Long.class);
            List<Extent> extents = client.blockStatus(metaContext, offset, length);
            in.setBody(NbdinfoMap.merge(extents));
            in.setHeader(NbdConstants.EXPORT_SIZE, client.size());
        }
    }

    private static void info(Message in, NbdUri uri, NbdConfiguration config) throws IOException {
        // ask for every context the export offers, so ExportInfo.metaContextIds lists them all
        List<String> offered = NbdConnector.offeredContexts(uri, config);
        try (NbdClient client = NbdConnector.connect(uri, config, offered)) {
            ExportInfo info = client.info();
            in.setBody(info);
            in.setHeader(NbdConstants.EXPORT_SIZE, client.size());
        }
    }

    private static void list(Message in, NbdUri uri, NbdConfiguration config) throws IOException {
        in.setBody(NbdConnector.listExports(uri, config));
    }

    private void write(Message in, NbdUri uri, NbdConfiguration config) throws Exception {
        long offset = requiredLong(in, NbdConstants.OFFSET);
        Object body = in.getBody();
        if (body == null) {
            // a ZERO chunk from the consumer or the chunks operation: write zeroes rather than fail
            if (NbdChunkKind.ZERO.name().equals(in.getHeader(NbdConstants.CHUNK_KIND, String.class))) {
                long length = requiredLong(in, NbdConstants.LENGTH);
                withWriter(uri, config, c -> c.writeZeroes(offset, length));
                return;
            }
            if (NbdChunkKind.NONE.name().equals(in.getHeader(NbdConstants.CHUNK_KIND, String.class))) {
                return; // the empty-pass marker carries nothing to write
            }
            throw new InvalidPayloadException(in.getExchange(), byte[].class);
        }
        ByteBuffer data = body instanceof ByteBuffer bb ? bb.duplicate() : ByteBuffer.wrap(in.getMandatoryBody(byte[].class));
        withWriter(uri, config, c -> {
            if (config.isFua()) {
                try {
                    c.writeAsync(offset, data, true).get();
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof Exception cause ? cause : e;
                }
            } else {
                c.write(offset, data);
            }
        });
    }

    private void writeZeroes(Message in, NbdUri uri, NbdConfiguration config) throws Exception {
        long offset = requiredLong(in, NbdConstants.OFFSET);
        long length = requiredLong(in, NbdConstants.LENGTH);
        withWriter(uri, config, c -> c.writeZeroes(offset, length));
    }

    private static long requiredLong(Message in, String header) {
        Long value = in.getHeader(header, Long.class);
        if (value == null) {
            throw new IllegalArgumentException("nbd: header " + header + " is required for this operation");
        }
        return value;
    }

    private void withWriter(NbdUri uri, NbdConfiguration config, NbdComponent.ClientAction action) throws Exception {
        endpoint.getComponent().withWriter(uri, config, action);
    }

}
