package dev.coldcopy.service;

import dev.coldcopy.processors.CommitCheckpointProcessor;
import dev.coldcopy.processors.InspectChainProcessor;
import dev.coldcopy.processors.OpenExportProcessor;
import dev.coldcopy.processors.PlanBackupProcessor;
import dev.coldcopy.service.retention.PruneProcessor;
import dev.coldcopy.service.retention.SnapshotGauges;
import java.io.File;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.function.Function;
import org.apache.camel.CamelContext;
import org.apache.camel.Processor;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.MainListenerSupport;
import org.apache.camel.main.Main;
import org.apache.camel.support.processor.idempotent.FileIdempotentRepository;

/** The beans the YAML routes refer to by name. */
public final class ServiceBeans {
    private ServiceBeans() {}

    static void bindAll(Main main) {
        BackupEngineHolder engine = new BackupEngineHolder();
        BackupProcessors backup = new BackupProcessors(engine);
        main.bind("backupEngine", engine);
        main.bind("eventSizeCheck", new EventSizeCheck());
        EventStates events = new EventStates();
        main.bind("eventQueued", events.queued());
        main.bind("eventRunning", events.running());
        main.bind("eventFinished", events.finished());
        main.bind("eventFailed", events.failed());
        main.bind("eventStatus", events.status());
        main.bind("eventIntake", new EventIntakeProcessor());
        main.bind("deadLetter", new DeadLetterProcessor());
        main.bind("httpEventResponse", new HttpEventResponse());
        main.bind("queuedEvent", new QueuedEventProcessor());
        main.bind("diskJobs", backup.diskJobs());
        main.bind("prepareDiskBackup", backup.prepare());
        main.bind("storeChunk", backup.storeChunk());
        main.bind("commitSnapshot", backup.commit());
        main.bind("finishDiskBackup", backup.finish());
        main.bind("diskFailure", backup.failure());
        main.bind("resultJson", backup.resultJson());
        main.bind("diskResults", new DiskResults());
        main.bind("raiseDiskFailures", DiskResults.raiseFailures());
        // building blocks for routes of your own (processors module; headers in BackupHeaders), on the
        // service's qemu tools, image policy, run directory and export server
        main.bind("inspectChain", onEngine(engine, e -> new InspectChainProcessor(e.inspector())));
        main.bind("planBackup", new PlanBackupProcessor());
        main.bind("openExport", onEngine(engine, e -> new OpenExportProcessor(e.tools(), e.runDirectory(), e.exports(),
                e.settings().diskLockWait())));
        main.bind("commitCheckpoint", new CommitCheckpointProcessor());
        SnapshotGauges gauges = new SnapshotGauges();
        main.bind("pruneRepository", new PruneProcessor(engine, gauges));
        main.bind("snapshotCommitted", (Processor) exchange -> {
            BackupResult r = exchange.getProperty(BackupProcessors.RESULT, BackupResult.class);
            if (r != null && "ok".equals(r.outcome())) {
                gauges.bind(exchange.getContext());
                gauges.committed(r.vm(), r.disk(), java.time.Instant.now());
            }
        });
        main.addMainListener(new MainListenerSupport() {
            @Override
            public void afterConfigure(BaseMainSupport configured) {
                bindConfiguredBeans(configured.getCamelContext());
                watchRoutes(configured.getCamelContext());
            }

            @Override
            public void afterStart(BaseMainSupport started) {
                fillGauges(started.getCamelContext(), engine, gauges);
            }

            @Override
            public void afterStop(BaseMainSupport stopped) {
                engine.close();
            }
        });
    }

    /** The per-disk gauges from the repository's summaries, in the background: the repository may be slow or away. */
    private static void fillGauges(CamelContext camel, BackupEngineHolder engine, SnapshotGauges gauges) {
        Thread t = new Thread(() -> {
            try {
                gauges.bind(camel);
                gauges.refresh(engine.get(camel).repository());
            } catch (Exception e) {
                org.slf4j.LoggerFactory.getLogger(ServiceBeans.class).debug("snapshot gauges not filled: {}", e.toString());
            }
        }, "coldcopy-gauges");
        t.setDaemon(true);
        t.start();
    }

    /** A processor made on the engine, which exists only once the configuration is loaded. */
    private static Processor onEngine(BackupEngineHolder engine, Function<BackupEngine, Processor> make) {
        return exchange -> make.apply(engine.get(exchange.getContext())).process(exchange);
    }

    /** The route watch: a health check now, its timer once the routes run. */
    private static void watchRoutes(CamelContext camel) {
        RouteWatch watch = new RouteWatch();
        watch.setCamelContext(camel);
        org.apache.camel.health.HealthCheckRegistry health = org.apache.camel.health.HealthCheckRegistry.get(camel);
        if (health != null) {
            health.register(watch);
        }
        try {
            camel.addStartupListener((context, alreadyStarted) -> watch.start(context));
        } catch (Exception e) {
            throw new IllegalStateException("cannot watch the routes: " + e.getMessage(), e);
        }
    }

    /** Beans whose shape depends on the configuration, bound once it is loaded. */
    static void bindConfiguredBeans(CamelContext camel) {
        int disks = Integer.parseInt(camel.resolvePropertyPlaceholders("{{coldcopy.parallel.disks:2}}"));
        ExecutorService pool = camel.getExecutorServiceManager().newFixedThreadPool(ServiceBeans.class, "coldcopy-disk", disks);
        camel.getRegistry().bind("diskPool", pool);
        Path ids = Path.of(camel.resolvePropertyPlaceholders("{{coldcopy.home}}"), "state", "event-ids");
        InterruptedEvents.release(camel, ids);
        camel.getRegistry().bind("eventIds", FileIdempotentRepository.fileIdempotentRepository(new File(ids.toString()), 10_000));
    }
}
