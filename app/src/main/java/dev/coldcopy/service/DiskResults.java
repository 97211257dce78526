package dev.coldcopy.service;

import java.util.ArrayList;
import java.util.List;
import org.apache.camel.AggregationStrategy;
import org.apache.camel.Exchange;

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
        Exchange into = oldExchange == null ? newExchange : oldExchange;
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
            newExchange.setException(null);
            into.setException(null);
        }
        into.getMessage().setBody(results);
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
            // The aggregate is built on the first disk's exchange, whose error handler already ran (retries
            // exhausted, failure handled). Those flags came along with it; left set, they make the error
            // handlers above treat this new failure as handled already: no dead letter would be written.
            exchange.getExchangeExtension().setRedeliveryExhausted(false);
            exchange.getExchangeExtension().setFailureHandled(false);
            exchange.getExchangeExtension().setErrorHandlerHandled(null);
            exchange.removeProperty(org.apache.camel.Exchange.FAILURE_HANDLED);
            exchange.removeProperty(org.apache.camel.Exchange.EXCEPTION_CAUGHT);
            exchange.removeProperty(org.apache.camel.Exchange.FAILURE_ENDPOINT);
            exchange.removeProperty(org.apache.camel.Exchange.FAILURE_ROUTE_ID);
            Exception first = failures.get(0);
            if (first instanceof dev.coldcopy.event.BadEventException && failures.size() == 1) {
                throw new dev.coldcopy.event.BadEventException(summary, first);
            }
            throw new BackupFailedException(summary, first);
        };
    }
}
