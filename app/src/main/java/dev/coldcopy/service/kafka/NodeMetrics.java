package dev.coldcopy.service.kafka;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.apache.camel.CamelContext;
import org.apache.camel.component.micrometer.MicrometerConstants;

/**
 * Per-node metrics for a fleet: the registry Camel's metrics and the {@code micrometer:} endpoints use,
 * with a {@code node} tag on every meter, so one Prometheus (or one dashboard) tells the nodes apart.
 * Must be bound before Camel creates its own registry (it reuses one it finds).
 */
public final class NodeMetrics {
    public static final String TAG = "node";

    private NodeMetrics() {}

    public static void bind(CamelContext camel, String node) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().commonTags(TAG, node);
        camel.getRegistry().bind(MicrometerConstants.METRICS_REGISTRY_NAME, registry);
    }
}
