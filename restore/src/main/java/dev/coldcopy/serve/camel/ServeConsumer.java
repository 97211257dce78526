package dev.coldcopy.serve.camel;

import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.serve.ClientListener;
import dev.coldcopy.serve.ServeSession;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.support.DefaultConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the snapshot from route start to route stop, and emits one exchange each time a client connects
 * or leaves (headers in {@link ServeConstants}, body a one-line description), on that client's thread.
 * The snapshot is chosen when the route starts: restart the route to serve a newer "latest".
 */
public class ServeConsumer extends DefaultConsumer implements ClientListener {
    private static final Logger LOG = LoggerFactory.getLogger(ServeConsumer.class);

    private Repository repository;
    private ServeSession session;
    private String snapshotId;

    public ServeConsumer(ServeEndpoint endpoint, Processor processor) {
        super(endpoint, processor);
    }

    @Override
    public ServeEndpoint getEndpoint() {
        return (ServeEndpoint) super.getEndpoint();
    }

    /** the NBD URI clients connect to while the route runs, null when stopped */
    public synchronized String uri() {
        return session == null ? null : session.server().uri();
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        ServeConfiguration config = getEndpoint().getConfiguration();
        ServeSession.Options options = config.sessionOptions();
        Repository repo = config.openRepository(getEndpoint().getCamelContext());
        try {
            SnapshotManifest manifest = config.findSnapshot(repo);
            synchronized (this) {
                snapshotId = manifest.id().value();
                session = ServeSession.start(repo, manifest, options, this);
                repository = repo;
            }
            LOG.info("route serves {}/{} snapshot {} at {}", config.getVm(), config.getDisk(), snapshotId, uri());
        } catch (Exception e) {
            repo.close();
            throw e;
        }
    }

    @Override
    protected void doStop() throws Exception {
        ServeSession s;
        Repository r;
        synchronized (this) {
            s = session;
            r = repository;
            session = null;
            repository = null;
        }
        if (s != null) {
            s.close();
        }
        if (r != null) {
            r.close();
        }
        super.doStop();
    }

    @Override
    public void connected(String peer, int clients) {
        emit(ServeConstants.CONNECTED, peer, clients);
    }

    @Override
    public void disconnected(String peer, int clients) {
        emit(ServeConstants.DISCONNECTED, peer, clients);
    }

    private void emit(String event, String peer, int clients) {
        String uri = uri();
        if (uri == null) {
            return; // stopping: the route is going away with its clients
        }
        Exchange exchange = createExchange(false);
        try {
            var in = exchange.getIn();
            in.setHeader(ServeConstants.EVENT, event);
            in.setHeader(ServeConstants.URI, uri);
            in.setHeader(ServeConstants.CLIENTS, clients);
            in.setHeader(ServeConstants.PEER, peer);
            in.setHeader(ServeConstants.SNAPSHOT, snapshotId);
            in.setBody(peer + " " + event + "; " + clients + " client(s) on " + uri);
            getProcessor().process(exchange);
        } catch (Exception e) {
            exchange.setException(e);
        }
        if (exchange.getException() != null) {
            getExceptionHandler().handleException("processing a coldcopy-serve event", exchange, exchange.getException());
        }
        releaseExchange(exchange, false);
    }
}
