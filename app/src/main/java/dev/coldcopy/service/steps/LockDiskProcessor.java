package dev.coldcopy.service.steps;

import dev.coldcopy.backup.DiskLock;
import dev.coldcopy.event.BackupEvent;
import dev.coldcopy.event.BadEventException;
import dev.coldcopy.event.DiskSpec;
import dev.coldcopy.event.EventNames;
import dev.coldcopy.security.RefusedException;
import dev.coldcopy.service.BackupEngine;
import dev.coldcopy.service.BackupEngineHolder;
import dev.coldcopy.service.ColdcopyHeaders;
import dev.coldcopy.service.DiskJob;
import dev.coldcopy.service.Reasons;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.lock.RepositoryLock;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;

/**
 * Step {@code lockDisk}: starts one disk's backup and takes the disk's lock (one backup per image at a time,
 * across processes), then the disk's lease in the repository (one backup per VM and disk at a time across the
 * nodes of a fleet, which may share the image over NFS or get the same event twice). Both come before the
 * chain is inspected and the backup planned: two backups of one disk must not both plan from the same bitmaps
 * (they would pick the same next checkpoint), nor both find that the disk still lacks this event's snapshot.
 * Both waits together last at most {@code coldcopy.disk-lock.wait-seconds}; a lease still held then fails the
 * try with the holder's host and pid (retried like any transient failure). The lease is refreshed while the
 * backup runs and released by {@code closeDiskBackup}; one whose node died expires (README, "Retention": disk leases).
 * <p>
 * In: a {@link DiskJob} body (the shipped route), or headers {@value ColdcopyHeaders#VM},
 * {@value ColdcopyHeaders#DISK}, {@value ColdcopyHeaders#IMAGE} and optional {@value ColdcopyHeaders#CHECKPOINT}
 * (a route of your own). Out: property {@value ColdcopyHeaders#DISK_BACKUP}; headers VM, DISK and IMAGE (the
 * image's real path).
 */
public final class LockDiskProcessor implements Processor {

    private final BackupEngineHolder engines;

    public LockDiskProcessor(BackupEngineHolder engines) {
        this.engines = engines;
    }

    @Override
    public void process(Exchange exchange) throws IOException {
        DiskJob job = diskJob(exchange);
        if (exchange.getProperty(ColdcopyHeaders.DISK_JOB) == null) {
            // a route of the user's: errors.yaml's retry rules and disk-failed know the disk by this property
            exchange.setProperty(ColdcopyHeaders.DISK_JOB, job);
        }
        BackupEngine engine = engines.get(exchange.getContext());
        DiskBackup backup = DiskBackup.begin(engine, job);
        exchange.setProperty(ColdcopyHeaders.DISK_BACKUP, backup); // from here closeDiskBackup undoes what follows
        exchange.setProperty(ColdcopyHeaders.RESULT, null);       // a retry starts without the last try's result
        Message message = exchange.getMessage();
        message.setHeader(ColdcopyHeaders.VM, job.event().vm());
        message.setHeader(ColdcopyHeaders.DISK, job.disk().target());
        Path image;
        try {
            image = engine.inspector().realPath(job.disk().image());
        } catch (RefusedException e) {
            throw new BadEventException(job.label() + ": " + Reasons.oneLine(e));
        }
        long started = System.nanoTime();
        Duration wait = engine.settings().diskLockWait();
        DiskLock lock = engine.runDirectory().diskLocks().lock(image, wait);
        backup.locked(image, lock);
        message.setHeader(ColdcopyHeaders.IMAGE, image.toString());
        Duration left = wait.minusNanos(System.nanoTime() - started);
        Repository repository = engine.repository();
        RepositoryLock lease = repository.locks().leaseDisk(job.event().vm(), job.disk().target(),
                "backup " + job.label() + " (event " + job.event().id() + ")", left.isNegative() ? Duration.ZERO : left);
        backup.leased(repository, lease);
    }

    private static DiskJob diskJob(Exchange exchange) {
        Message message = exchange.getMessage();
        if (message.getBody() instanceof DiskJob job) {
            return job;
        }
        String vm = EventNames.vm(required(message, ColdcopyHeaders.VM));
        String target = EventNames.target(required(message, ColdcopyHeaders.DISK));
        Path image = Path.of(required(message, ColdcopyHeaders.IMAGE));
        if (!image.isAbsolute()) {
            throw new BadEventException("header " + ColdcopyHeaders.IMAGE + ": image path '" + image + "' must be absolute");
        }
        Optional<String> checkpoint = Optional.ofNullable(message.getHeader(ColdcopyHeaders.CHECKPOINT, String.class))
                .filter(s -> !s.isBlank()).map(EventNames::checkpoint);
        String id = Optional.ofNullable(message.getHeader(ColdcopyHeaders.EVENT_ID, String.class))
                .orElse(exchange.getExchangeId());
        return new DiskJob(new BackupEvent(id, vm, List.of(new DiskSpec(target, image)), checkpoint),
                new DiskSpec(target, image));
    }

    private static String required(Message message, String header) {
        String value = message.getHeader(header, String.class);
        if (value == null || value.isBlank()) {
            throw new BadEventException("lockDisk needs a DiskJob body or header " + header);
        }
        return value;
    }
}
