package dev.coldcopy.service;

import java.util.ArrayList;
import java.util.List;
import org.apache.camel.AggregationStrategy;
import org.apache.camel.Exchange;

/**
 * Gathers the per-disk results of one VM into a list (the body after the split), keeping failures
 * as results too so that every disk is accounted for; {@link #eventOutcome()} then tells the event route
 * if any disk failed, after all disks had their chance.
 */
public final class DiskResults implements AggregationStrategy {
    static final String FAILURES = "coldcopyDiskFailures";

    @Override
    @SuppressWarnings("unchecked")
    public Exchange aggregate(Exchange oldExchange, Exchange newExchange) {
        Exchange into = oldExchange == null ? newExchange : oldExchange;
        List<BackupResult> results = into.getProperty("coldcopyResults", List.class);
        if (results == null) {
            results = new ArrayList<>();
            into.setProperty("coldcopyResults", results);
        }
        BackupResult result = newExchange.getProperty(BackupProcessors.RESULT, BackupResult.class);
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
        }
        // A failed disk's exchange has been through its error handler; if it becomes the aggregate,
        // those marks would make the event's own failure look handled already (no dead letter).
        into.setException(null);
        into.getExchangeExtension().setRedeliveryExhausted(false);
        into.getExchangeExtension().setErrorHandlerHandled(null);
        into.removeProperty(Exchange.FAILURE_HANDLED);
        into.removeProperty(Exchange.EXCEPTION_CAUGHT);
        into.getMessage().setBody(results);
        return into;
    }

    /**
     * After the split: the body becomes the list of results; when a disk failed, header
     * {@link ColdcopyHeaders#REASON} names each failed disk's reason (the event route then fails the
     * event, which dead-letters it once and moves its spool file to failed/).
     */
    public static org.apache.camel.Processor eventOutcome() {
        return exchange -> {
            @SuppressWarnings("unchecked")
            List<BackupResult> results = exchange.getProperty("coldcopyResults", List.class);
            exchange.getMessage().setBody(results == null ? List.of() : results);
            @SuppressWarnings("unchecked")
            List<Exception> failures = exchange.getProperty(FAILURES, List.class);
            exchange.removeProperty(FAILURES);
            if (failures == null || failures.isEmpty()) {
                exchange.getMessage().setHeader(ColdcopyHeaders.OUTCOME, "ok");
                return;
            }
            List<String> reasons = results == null ? List.of() : results.stream()
                    .filter(r -> !"ok".equals(r.outcome())).map(BackupResult::reason).toList();
            exchange.getMessage().setHeader(ColdcopyHeaders.OUTCOME, "failed");
            exchange.getMessage().setHeader(ColdcopyHeaders.REASON,
                    reasons.isEmpty() ? Reasons.oneLine(failures.get(0)) : String.join("; ", reasons));
        };
    }
}
