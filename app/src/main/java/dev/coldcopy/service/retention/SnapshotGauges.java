package dev.coldcopy.service.retention;

import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.camel.CamelContext;

/**
 * Per-disk gauges for alerting: {@code coldcopy_snapshots{vm,disk}} (snapshots in the repository) and
 * {@code coldcopy_last_backup_timestamp_seconds{vm,disk}} (creation time of the newest). Filled from the
 * repository's snapshot summaries when the service starts and after each prune, and moved on by every
 * committed backup.
 */
public final class SnapshotGauges {
    private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> lastBackup = new ConcurrentHashMap<>();
    private volatile MeterRegistry registry;

    /** the registry the service's metrics go to (the one Camel's micrometer component uses) */
    public void bind(CamelContext camel) {
        if (registry == null) {
            registry = camel.getRegistry().findSingleByType(MeterRegistry.class);
        }
    }

    /** Sets every gauge from the repository's summaries. */
    public synchronized void refresh(Repository repository) throws IOException {
        List<SnapshotSummary> all = repository.list(Optional.empty());
        Map<String, long[]> perDisk = new HashMap<>();
        for (SnapshotSummary s : all) {
            long[] v = perDisk.computeIfAbsent(s.vm() + "\u0000" + s.disk(), k -> new long[2]);
            v[0]++;
            v[1] = Math.max(v[1], s.created().getEpochSecond());
        }
        for (String key : counts.keySet()) {
            if (!perDisk.containsKey(key)) {
                counts.get(key).set(0);
            }
        }
        perDisk.forEach((key, v) -> {
            String[] vd = key.split("\u0000", 2);
            gauge(counts, "coldcopy.snapshots", "snapshots of the disk in the repository", vd[0], vd[1]).set(v[0]);
            gauge(lastBackup, "coldcopy.last.backup.timestamp.seconds", "creation time of the disk's newest snapshot", vd[0], vd[1]).set(v[1]);
        });
    }

    /** A backup of the disk was committed just now. */
    public void committed(String vm, String disk, Instant when) {
        gauge(counts, "coldcopy.snapshots", "snapshots of the disk in the repository", vm, disk).incrementAndGet();
        gauge(lastBackup, "coldcopy.last.backup.timestamp.seconds", "creation time of the disk's newest snapshot", vm, disk)
                .set(when.getEpochSecond());
    }

    private AtomicLong gauge(Map<String, AtomicLong> values, String name, String help, String vm, String disk) {
        return values.computeIfAbsent(vm + "\u0000" + disk, k -> {
            AtomicLong v = new AtomicLong();
            MeterRegistry r = registry;
            if (r != null) {
                Gauge.builder(name, v, AtomicLong::doubleValue).description(help).tag("vm", vm).tag("disk", disk).register(r);
            }
            return v;
        });
    }
}
