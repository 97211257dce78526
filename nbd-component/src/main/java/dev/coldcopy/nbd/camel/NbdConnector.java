package dev.coldcopy.nbd.camel;

import dev.coldcopy.nbd.protocol.ExportDescription;
import dev.coldcopy.nbd.protocol.MetaContexts;
import dev.coldcopy.nbd.protocol.NbdClient;
import dev.coldcopy.nbd.protocol.NbdClientOptions;
import dev.coldcopy.nbd.protocol.NbdUri;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Opens NBD connections and chunk streams as an endpoint's options say. */
final class NbdConnector {

    private NbdConnector() {}

    static NbdClient connect(NbdUri uri, NbdConfiguration config, List<String> contexts) throws IOException {
        return NbdClient.connect(uri, options(config, contexts));
    }

    /** Every meta context the export offers (none when the server lacks structured replies). */
    static List<String> offeredContexts(NbdUri uri, NbdConfiguration config) throws IOException {
        return NbdClient.offeredMetaContexts(uri, options(config, List.of()));
    }

    /** The server's exports with their descriptions (NBD_OPT_LIST). */
    static List<ExportDescription> listExports(NbdUri uri, NbdConfiguration config) throws IOException {
        return NbdClient.listExports(uri, options(config, List.of()));
    }

    static NbdClientOptions options(NbdConfiguration config, List<String> contexts) throws IOException {
        return NbdClientOptions.builder()
                .connectTimeout(Duration.ofMillis(config.getConnectTimeout()))
                .ioTimeout(Duration.ofMillis(config.getIoTimeout()))
                .metaContexts(contexts)
                .maxInFlight(config.getMaxInFlight())
                .connections(config.getConnections())
                .readRequestSize(config.getReadRequestSize())
                .sslContext(config.effectiveSslContext())
                .tlsPsk(config.effectiveTlsPsk())
                .verifyHostname(config.isVerifyHostname())
                .build();
    }

    /** Fails with a one-line reason when the server did not accept {@code context}. */
    static void requireContext(NbdClient client, NbdUri uri, String context) throws IOException {
        if (!client.metaContexts().contains(context)) {
            throw new IOException("NBD server does not offer meta context '" + context + "' on " + uri
                    + " (offered: " + client.metaContexts() + ")");
        }
    }

    /**
     * Connects and returns the chunk stream of the whole export; the stream owns the connection.
     *
     * @param emptyMarker emit one NONE chunk when nothing is selected (the consumer's completion signal)
     */
    static NbdChunkIterator openChunks(NbdUri uri, NbdConfiguration config, String metaContext, boolean emptyMarker)
            throws IOException {
        boolean dirtyOnly = config.effectiveDirtyOnly(metaContext);
        if (dirtyOnly && MetaContexts.BASE_ALLOCATION.equals(metaContext)) {
            throw new IllegalArgumentException("nbd: dirtyOnly needs a dirty-bitmap metaContext, not base:allocation");
        }
        List<String> contexts = new ArrayList<>(2);
        if (dirtyOnly) {
            contexts.add(metaContext);
        }
        contexts.add(MetaContexts.BASE_ALLOCATION);
        NbdClient client = connect(uri, config, contexts);
        try {
            if (dirtyOnly) {
                requireContext(client, uri, metaContext);
            }
            // without base:allocation every range is read as DATA; zero detection still finds zeroes
            String allocation = client.metaContexts().contains(MetaContexts.BASE_ALLOCATION) ? MetaContexts.BASE_ALLOCATION : null;
            long size = client.size();
            ChunkRangeSource plan = new ChunkRangeSource(client::blockStatus, size, dirtyOnly ? metaContext : null,
                    allocation, config.getChunkSize());
            return new NbdChunkIterator(plan, client::readAsync, size, config.getReadAhead(), config.isZeroDetect(),
                    emptyMarker, client);
        } catch (IOException | RuntimeException e) {
            client.close();
            throw e;
        }
    }
}
