package dev.coldcopy.service;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import org.apache.camel.AggregationStrategy;
import org.apache.camel.Exchange;
import org.apache.camel.support.DefaultExchange;

/**
 * Gathers the per-disk results of one VM into a list (the body after the split), keeping failures
 * as results too so that every disk is accounted for; {@link #raiseFailures()} then fails the event
 * if any disk failed, after all disks had their chance.
 */
public final class DiskResults implements AggregationStrategy {
    static final String FAILURES = "coldcopyDiskFailures";

    @Override
    @SuppressWarnings("unchecked")
    public Exchange aggregate(Exchange oldExchange, Exchange newExchange) {
        Exchange into = oldExchange == null ? aggregateFor(newExchange) : oldExchange;
        List<BackupResult> results = into.getProperty(ColdcopyHeaders.RESULTS, List.class);
        if (results == null) {
            results = new ArrayList<>();
            into.setProperty(ColdcopyHeaders.RESULTS, results);
        }
        BackupResult result = newExchange.getProperty(ColdcopyHeaders.RESULT, BackupResult.class);
        if (result != null) {
            results.add(result);
        }
        Exception failure = newExchange.getException();
        if (failure != null) {
            List<Exception> failures = into.getProperty(FAILURES, List.class);
            if (failures == null) {
                failures = new ArrayList<>();
                into.setProperty(FAILURES, failures);
            }
            failures.add(failure);
        }
        into.getMessage().setBody(results);
        return into;
    }

    /**
     * A new exchange to gather into, not the first disk's own: that one went through the disk's error handler
     * (retries exhausted, failure handled), and its state would make the event's failure look handled already.
     */
    private static Exchange aggregateFor(Exchange first) {
        Exchange into = new DefaultExchange(first.getContext());
        into.getMessage().setHeaders(new HashMap<>(first.getMessage().getHeaders()));
        return into;
    }

    /** Fails the exchange with one line naming each failed disk's reason. */
    public static org.apache.camel.Processor raiseFailures() {
        return exchange -> {
            @SuppressWarnings("unchecked")
            List<BackupResult> results = exchange.getProperty(ColdcopyHeaders.RESULTS, List.class);
            exchange.getMessage().setBody(results);
            @SuppressWarnings("unchecked")
            List<Exception> failures = exchange.getProperty(FAILURES, List.class);
            if (failures == null || failures.isEmpty()) {
                return;
            }
            List<String> reasons = results == null ? List.of() : results.stream()
                    .filter(r -> !"ok".equals(r.outcome())).map(r -> r.disk() + ": " + r.reason()).toList();
            String summary = reasons.isEmpty() ? Reasons.oneLine(failures.get(0)) : String.join("; ", reasons);
            Exception first = failures.get(0);
            if (first instanceof dev.coldcopy.event.BadEventException && failures.size() == 1) {
                throw new dev.coldcopy.event.BadEventException(summary, first);
            }
            throw new BackupFailedException(summary, first);
        };
    }
}
