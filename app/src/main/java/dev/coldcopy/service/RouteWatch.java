package dev.coldcopy.service;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.camel.CamelContext;
import org.apache.camel.Route;
import org.apache.camel.ServiceStatus;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;
import org.apache.camel.support.ScheduledPollConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the service whole. A Java {@link Error} thrown in a poller outside of an exchange (the heap
 * exhausted while listing or moving a file, say) ends Camel's scheduled poll for good while the route
 * still reports itself started: the service would look alive and never read the spool again. Every few
 * seconds this watch looks at each started polling route; one that has neither polled nor been busy
 * polling for ten poll intervals (at least {@value #MIN_STALL_SECONDS} s) is restarted, with one line in
 * the log. As a health check ({@code coldcopy-routes}) it is DOWN while any route that should run does
 * not (stopped, failed to start, or a poller found dead and not yet restarted).
 */
public final class RouteWatch extends AbstractHealthCheck {
    private static final Logger LOG = LoggerFactory.getLogger(RouteWatch.class);
    static final long MIN_STALL_SECONDS = 5;
    private static final Duration EVERY = Duration.ofSeconds(1);

    private final Map<String, Progress> progress = new ConcurrentHashMap<>();
    private final Map<String, String> stalled = new ConcurrentHashMap<>();
    private ScheduledExecutorService timer;

    private record Progress(long counter, long sinceNanos) {}

    public RouteWatch() {
        super("coldcopy", "coldcopy-routes");
    }

    /** Starts watching; the timer stops with the context. */
    public void start(CamelContext camel) {
        setCamelContext(camel);
        timer = camel.getExecutorServiceManager().newSingleThreadScheduledExecutor(this, "coldcopy-route-watch");
        timer.scheduleWithFixedDelay(this::watch, EVERY.toMillis(), EVERY.toMillis(), TimeUnit.MILLISECONDS);
    }

    void watch() {
        CamelContext camel = getCamelContext();
        if (camel == null || !camel.isStarted()) {
            return;
        }
        for (Route route : camel.getRoutes()) {
            if (!(route.getConsumer() instanceof ScheduledPollConsumer poller)
                    || camel.getRouteController().getRouteStatus(route.getRouteId()) != ServiceStatus.Started) {
                progress.remove(route.getRouteId());
                continue;
            }
            long now = System.nanoTime();
            Progress last = progress.get(route.getRouteId());
            if (last == null || last.counter() != poller.getCounter() || poller.isPolling()) {
                progress.put(route.getRouteId(), new Progress(poller.getCounter(), now));
                continue;
            }
            long limitNanos = Math.max(TimeUnit.SECONDS.toNanos(MIN_STALL_SECONDS),
                    TimeUnit.MILLISECONDS.toNanos(10 * Math.max(poller.getDelay(), 1)));
            if (now - last.sinceNanos() > limitNanos) {
                restart(camel, route.getRouteId());
            }
        }
    }

    private void restart(CamelContext camel, String routeId) {
        String why = "the poller of route " + routeId + " stopped polling (a fatal error in its thread)";
        stalled.put(routeId, why);
        LOG.error("{}; restarting the route", why);
        try {
            camel.getRouteController().stopRoute(routeId);
            camel.getRouteController().startRoute(routeId);
            progress.remove(routeId);
            stalled.remove(routeId);
        } catch (Exception e) {
            LOG.error("route {} could not be restarted: {}", routeId, Reasons.oneLine(e));
        }
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        CamelContext camel = getCamelContext();
        List<String> problems = new ArrayList<>(stalled.values());
        for (Route route : camel.getRoutes()) {
            ServiceStatus status = camel.getRouteController().getRouteStatus(route.getRouteId());
            if (route.isAutoStartup() && status != ServiceStatus.Started) {
                problems.add("route " + route.getRouteId() + " is not running (" + status + ")");
            }
        }
        if (problems.isEmpty()) {
            builder.up();
        } else {
            builder.message(String.join("; ", problems)).down();
        }
    }

    public void stop() {
        if (timer != null) {
            getCamelContext().getExecutorServiceManager().shutdownNow(timer);
        }
    }
}
