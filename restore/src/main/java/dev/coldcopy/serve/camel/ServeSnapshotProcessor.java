package dev.coldcopy.serve.camel;

import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.restore.SnapshotSelection;
import dev.coldcopy.serve.ChunkCache;
import dev.coldcopy.serve.ClientListener;
import dev.coldcopy.serve.ServeSession;
import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;
import org.apache.camel.support.service.ServiceSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves one snapshot for a route step: headers {@value ServeConstants#VM}, {@value ServeConstants#DISK} and optionally
 * {@value ServeConstants#SNAPSHOT_ID} (default latest) choose it; it is served read-only on a Unix socket in a new private
 * directory, and the step returns at once with the NBD URI in {@link ServeConstants#URI} and the snapshot id
 * in {@link ServeConstants#SNAPSHOT}. Serving stops when the last client has left (as {@code serve --once}),
 * or after {@value ServeConstants#TIMEOUT} (milliseconds or an ISO-8601 duration, default the processor's) whatever
 * clients are connected, or when Camel stops.
 */
public final class ServeSnapshotProcessor extends ServiceSupport implements Processor {
    private static final Logger LOG = LoggerFactory.getLogger(ServeSnapshotProcessor.class);

    /** clients may hang up and come straight back (qemu-img probes, then opens), as serve --once allows */
    private static final Duration LAST_CLIENT_GRACE = Duration.ofSeconds(1);

    /** where the snapshots are: the service's repository, opened once and shared */
    @FunctionalInterface
    public interface RepositorySource {
        Repository get(CamelContext camel) throws IOException;
    }

    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "coldcopy-serve-timeout");
        t.setDaemon(true);
        return t;
    });

    private final RepositorySource repository;
    private final Duration defaultTimeout;
    private final Set<ServeSession> sessions = ConcurrentHashMap.newKeySet();

    /** @param repository the repository to serve from, looked up per exchange and never closed here */
    public ServeSnapshotProcessor(RepositorySource repository, Duration defaultTimeout) {
        this.repository = repository;
        this.defaultTimeout = defaultTimeout;
    }

    @Override
    public void process(Exchange exchange) throws Exception {
        Message in = exchange.getMessage();
        SnapshotSelection selection = new SnapshotSelection(in.getHeader(ServeConstants.VM, String.class),
                in.getHeader(ServeConstants.DISK, String.class), in.getHeader(ServeConstants.SNAPSHOT_ID, String.class));
        if (selection.vm() == null || selection.disk() == null) {
            throw new IllegalArgumentException("serveSnapshot needs the headers " + ServeConstants.VM + " and " + ServeConstants.DISK);
        }
        Duration timeout = timeout(in.getHeader(ServeConstants.TIMEOUT, String.class));
        Repository repo = repository.get(exchange.getContext());
        SnapshotManifest manifest = selection.find(repo);
        ServeSession session = ServeSession.start(repo, manifest, new ServeSession.Options(ChunkCache.DEFAULT_BYTES, null, null, null),
                ClientListener.NONE);
        sessions.add(session);
        String uri = session.server().uri();
        Thread waiter = new Thread(() -> serveUntilDone(session, uri, timeout), "coldcopy-serve-" + selection.vm() + "-" + selection.disk());
        waiter.setDaemon(true);
        waiter.start();
        LOG.info("serving {}/{} snapshot {} at {} until its last client leaves (at most {})", selection.vm(), selection.disk(),
                manifest.id(), uri, timeout);
        in.setHeader(ServeConstants.URI, uri);
        in.setHeader(ServeConstants.SNAPSHOT, manifest.id().value());
    }

    private Duration timeout(String header) {
        if (header == null || header.isBlank()) {
            return defaultTimeout;
        }
        return header.chars().allMatch(Character::isDigit) ? Duration.ofMillis(Long.parseLong(header)) : Duration.parse(header);
    }

    private void serveUntilDone(ServeSession session, String uri, Duration timeout) {
        ScheduledFuture<?> limit = TIMER.schedule(() -> {
            LOG.info("{}: served for {}, stopping", uri, timeout);
            close(session); // ends awaitLastClientGone below
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        try {
            session.server().awaitLastClientGone(LAST_CLIENT_GRACE);
            LOG.info("{}: no client left, stopping", uri);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            limit.cancel(false);
            close(session);
        }
    }

    private void close(ServeSession session) {
        if (sessions.remove(session)) {
            session.close();
        }
    }

    @Override
    protected void doStop() {
        sessions.forEach(this::close);
    }
}
