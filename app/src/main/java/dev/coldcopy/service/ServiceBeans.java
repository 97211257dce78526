package dev.coldcopy.service;

import dev.coldcopy.serve.camel.ServeSnapshotProcessor;
import dev.coldcopy.service.kafka.FleetEventIds;
import dev.coldcopy.service.kafka.ForwardedEvent;
import dev.coldcopy.service.kafka.KafkaOffsetCommit;
import dev.coldcopy.service.kafka.KafkaSettings;
import dev.coldcopy.service.kafka.NodeMetrics;
import dev.coldcopy.service.retention.PruneProcessor;
import dev.coldcopy.service.retention.SnapshotGauges;
import dev.coldcopy.service.steps.CloseDiskBackupProcessor;
import dev.coldcopy.service.steps.CommitCheckpointProcessor;
import dev.coldcopy.service.steps.CommitSnapshotProcessor;
import dev.coldcopy.service.steps.InspectChainProcessor;
import dev.coldcopy.service.steps.LockDiskProcessor;
import dev.coldcopy.service.steps.OpenExportProcessor;
import dev.coldcopy.service.steps.PlanBackupProcessor;
import dev.coldcopy.service.steps.StoreChunkProcessor;
import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import org.apache.camel.CamelContext;
import org.apache.camel.Processor;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.MainListenerSupport;
import org.apache.camel.main.Main;
import org.apache.camel.support.processor.idempotent.FileIdempotentRepository;

/** The beans the YAML routes refer to by name. */
public final class ServiceBeans {
    private ServiceBeans() {}

    static void bindAll(Main main, boolean takesEvents) {
        BackupEngineHolder engine = new BackupEngineHolder();
        BackupProcessors backup = new BackupProcessors();
        main.bind("backupEngine", engine);
        main.bind("eventSizeCheck", new EventSizeCheck());
        EventStates events = new EventStates();
        main.bind("eventQueued", events.queued());
        main.bind("eventRunning", events.running());
        main.bind("eventFinished", events.finished());
        main.bind("eventFailed", events.failed());
        main.bind("eventForwarded", (Processor) exchange -> events.forwarded(exchange.getContext()
                .resolvePropertyPlaceholders("{{coldcopy.kafka.events-topic}}")).process(exchange));
        main.bind("eventStatus", events.status());
        main.bind("eventIntake", new EventIntakeProcessor());
        main.bind("deadLetter", new DeadLetterProcessor());
        main.bind("httpEventResponse", new HttpEventResponse());
        main.bind("queuedEvent", new QueuedEventProcessor());
        main.bind("spoolFileFailed", new SpoolFileFailed());
        // routes/kafka.yaml (the kafka profile)
        main.bind("commitKafkaOffset", new KafkaOffsetCommit());
        main.bind("forwardedEvent", new ForwardedEvent());
        main.bind("checkVm", new dev.coldcopy.service.vm.CheckVmProcessor(engine));
        main.bind("diskJobs", backup.diskJobs());
        // the steps of one disk's backup (routes/backup.yaml), also for routes of your own
        main.bind("lockDisk", new LockDiskProcessor(engine));
        main.bind("findEventSnapshot", new dev.coldcopy.service.steps.FindEventSnapshotProcessor());
        main.bind("inspectChain", new InspectChainProcessor());
        main.bind("planBackup", new PlanBackupProcessor(java.time.Clock.systemUTC()));
        main.bind("openExport", new OpenExportProcessor());
        main.bind("storeChunk", new StoreChunkProcessor());
        main.bind("commitSnapshot", new CommitSnapshotProcessor());
        main.bind("commitCheckpoint", new CommitCheckpointProcessor());
        main.bind("closeDiskBackup", new CloseDiskBackupProcessor());
        main.bind("diskFailure", backup.failure());
        main.bind("resultJson", backup.resultJson());
        main.bind("commitVmBackup", new dev.coldcopy.service.vm.CommitVmBackupProcessor(engine));
        main.bind("vmResultJson", backup.vmResultJson());
        main.bind("diskResults", new DiskResults());
        main.bind("raiseDiskFailures", DiskResults.raiseFailures());
        SnapshotGauges gauges = new SnapshotGauges();
        main.bind("pruneRepository", new PruneProcessor(engine, gauges));
        main.bind("serveSnapshot", new ServeSnapshotProcessor(camel -> engine.get(camel).repository(), Duration.ofHours(1)));
        main.bind("snapshotCommitted", (Processor) exchange -> {
            BackupResult r = exchange.getProperty(ColdcopyHeaders.RESULT, BackupResult.class);
            if (r != null && "ok".equals(r.outcome())) {
                gauges.bind(exchange.getContext());
                gauges.committed(r.vm(), r.disk(), java.time.Instant.now());
            }
        });
        main.addMainListener(new MainListenerSupport() {
            @Override
            public void beforeConfigure(BaseMainSupport configuring) {
                CamelContext camel = configuring.getCamelContext();
                if (KafkaSettings.enabled(camel)) {
                    NodeMetrics.bind(camel, KafkaSettings.node(camel));
                }
            }

            @Override
            public void afterConfigure(BaseMainSupport configured) {
                bindConfiguredBeans(configured.getCamelContext(), takesEvents);
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
    static void bindConfiguredBeans(CamelContext camel, boolean takesEvents) {
        int disks = Integer.parseInt(camel.resolvePropertyPlaceholders("{{coldcopy.parallel.disks:2}}"));
        ExecutorService pool = camel.getExecutorServiceManager().newFixedThreadPool(ServiceBeans.class, "coldcopy-disk", disks);
        camel.getRegistry().bind("diskPool", pool);
        Path ids = Path.of(camel.resolvePropertyPlaceholders("{{coldcopy.home}}"), "state", "event-ids");
        if (takesEvents) {
            InterruptedEvents.release(camel, ids);
        }
        // a fleet shares its event ids over Kafka: an event delivered again to another node is skipped there too
        camel.getRegistry().bind("eventIds", KafkaSettings.enabled(camel) ? FleetEventIds.create(camel)
                : FileIdempotentRepository.fileIdempotentRepository(new File(ids.toString()), 10_000));
    }
}
