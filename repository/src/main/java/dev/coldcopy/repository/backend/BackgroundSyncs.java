package dev.coldcopy.repository.backend;

import dev.coldcopy.repository.RepositoryException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The fsyncs of a durable backend: they run on background threads while the next objects are written, so
 * the storage's flushes overlap the backup's reads, and {@link #await} is what makes a flush durable.
 */
final class BackgroundSyncs implements AutoCloseable {
    private final ExecutorService syncer;
    private final List<Future<?>> syncing = new ArrayList<>();

    BackgroundSyncs(int threads, String threadName) {
        this.syncer = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
    }

    synchronized void submit(Callable<Void> sync) {
        syncing.add(syncer.submit(sync));
    }

    /**
     * Returns once every sync submitted so far has run; the first failure is thrown as it was, or
     * described when it is not a RepositoryException.
     */
    void await(String description) throws RepositoryException {
        List<Future<?>> pending;
        synchronized (this) {
            pending = new ArrayList<>(syncing);
            syncing.clear();
        }
        try {
            for (Future<?> f : pending) {
                f.get();
            }
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof RepositoryException re ? re
                    : new RepositoryException("syncing objects to disk in " + description + " failed: "
                            + (c instanceof IOException io ? CamelDelivery.describe(io) : String.valueOf(c)), c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RepositoryException("interrupted while syncing objects to disk in " + description);
        }
    }

    /** Syncs already queued still run; nothing waits for them. */
    @Override
    public void close() {
        syncer.shutdown();
    }
}
