package dev.coldcopy.service.vm;

import dev.coldcopy.domain.DomainDefinition;
import dev.coldcopy.domain.DomainDisk;
import dev.coldcopy.domain.DomainSecrets;
import dev.coldcopy.domain.HostFileRef;
import dev.coldcopy.event.BackupEvent;
import dev.coldcopy.event.DiskSpec;
import dev.coldcopy.repository.ChunkCorruptException;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.lock.RepositoryLock;
import dev.coldcopy.repository.vm.HostFile;
import dev.coldcopy.repository.vm.VmBackup;
import dev.coldcopy.repository.vm.VmBackupWriter;
import dev.coldcopy.repository.vm.VmBackups;
import dev.coldcopy.repository.vm.VmDisk;
import dev.coldcopy.qemu.Qcow2Header;
import dev.coldcopy.security.ImageNotFoundException;
import dev.coldcopy.service.BackupEngine;
import dev.coldcopy.service.BackupEngineHolder;
import dev.coldcopy.service.BackupResult;
import dev.coldcopy.service.ColdcopyHeaders;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Step {@code commitVmBackup}, after every disk had its turn: when all of them committed, records the VM backup
 * (the domain XML, the host files it depends on, each disk's snapshot and each skipped disk with its reason);
 * in any case leaves the event's {@link VmResult} in property {@value ColdcopyHeaders#VM_RESULT}. When a disk
 * failed no record is written: the disks that did commit keep their snapshots, and the VM's latest backup
 * stays the previous whole one.
 *
 * <p>An event delivered again (at-least-once delivery: the node that had it may have died after recording the VM
 * backup) is answered with the VM backup it already recorded: the VM's newest backup, when it carries this
 * event's id and lists the very snapshots the disks answered with, is the result, and nothing is written. The
 * check and the write happen under the VM's lease in the repository, so two nodes that got the same event never
 * both record it.
 *
 * <p>Secrets: libvirt leaves passwords out of the XML it hands the hook and {@code dumpxml}, but an event may
 * carry them; in a repository that is not encrypted they are removed before the XML is stored, and the VM
 * backup's notes say so.
 */
public final class CommitVmBackupProcessor implements Processor {
    private static final Logger LOG = LoggerFactory.getLogger(CommitVmBackupProcessor.class);
    private final BackupEngineHolder engines;

    public CommitVmBackupProcessor(BackupEngineHolder engines) {
        this.engines = engines;
    }

    @Override
    public void process(Exchange exchange) throws IOException {
        BackupEvent event = exchange.getProperty(ColdcopyHeaders.EVENT, BackupEvent.class);
        if (event == null) {
            return;
        }
        @SuppressWarnings("unchecked")
        List<BackupResult> results = Optional.ofNullable(exchange.getProperty(ColdcopyHeaders.RESULTS, List.class)).orElse(List.of());
        List<VmResult.Disk> disks = new ArrayList<>(results.stream().map(VmResult.Disk::of).toList());
        event.domain().ifPresent(d -> d.skipped().forEach(s -> disks.add(new VmResult.Disk(s.target(), "skipped", null, null, s.skipReason()))));
        List<BackupResult> failed = results.stream().filter(r -> !"ok".equals(r.outcome())).toList();
        if (failed.size() > 0 || results.size() < event.disks().size()) {
            String reason = failed.isEmpty() ? "not every disk was backed up"
                    : String.join("; ", failed.stream().map(r -> r.disk() + ": " + r.reason()).toList());
            exchange.setProperty(ColdcopyHeaders.VM_RESULT, new VmResult(VmResult.TYPE, event.id(), event.vm(), "failed", null,
                    disks, List.of(), List.of(), "no VM backup recorded: " + reason));
            return;
        }
        BackupEngine engine = engines.get(exchange.getContext());
        Repository repository = engine.repository();
        VmBackups backups = new VmBackups(repository);
        try (RepositoryLock lease = repository.locks().leaseVm(event.vm(), "VM backup of " + event.vm() + " (event " + event.id() + ")",
                engine.settings().diskLockWait())) {
            Optional<VmBackup> earlier = newest(backups, event.vm()).filter(b -> recordsThisEvent(b, event, results));
            if (earlier.isPresent()) {
                VmBackup b = earlier.get();
                LOG.info("{}: event {} already recorded VM backup {}: not written again", event.vm(), event.id(), b.id());
                exchange.setProperty(ColdcopyHeaders.VM_RESULT, new VmResult(VmResult.TYPE, event.id(), event.vm(), "ok", b.id().toString(),
                        disks, b.files().stream().map(HostFile::role).toList(), b.notes(), null));
                return;
            }
            List<HostFile> files = new ArrayList<>();
            List<String> notes = new ArrayList<>();
            SnapshotId id;
            try (VmBackupWriter writer = backups.newBackup(event.vm(), event.id())) {
                if (event.domain().isPresent()) {
                    storeDomain(event.domain().get(), repository, writer, engine, files, notes);
                }
                lease.confirm();
                id = writer.commit(vmDisks(event, results), files, notes);
            }
            List<String> roles = files.stream().map(HostFile::role).toList();
            LOG.info("{}: committed VM backup {}: {} disk(s), {} skipped, files {}{}", event.vm(), id,
                    results.size(), disks.size() - results.size(), roles, notes.isEmpty() ? "" : "; " + String.join("; ", notes));
            exchange.setProperty(ColdcopyHeaders.VM_RESULT, new VmResult(VmResult.TYPE, event.id(), event.vm(), "ok", id.toString(),
                    disks, roles, notes, null));
        }
    }

    /** the VM's newest backup; a damaged one is not this event's (verify reports it; it must not stop new backups) */
    private static Optional<VmBackup> newest(VmBackups backups, String vm) throws IOException {
        try {
            return backups.latest(vm);
        } catch (ChunkCorruptException e) {
            LOG.warn("{}: the newest VM backup cannot be read ({}): a new one is written", vm, e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * Whether the VM backup is this event's: its event id, and every disk the event backed up with the snapshot
     * the disk's result names (a later event's disks may have committed since; then it no longer describes them).
     */
    private static boolean recordsThisEvent(VmBackup backup, BackupEvent event, List<BackupResult> results) {
        if (!event.id().equals(backup.eventId())) {
            return false;
        }
        for (BackupResult r : results) {
            Optional<VmDisk> d = backup.disk(r.disk());
            if (d.isEmpty() || !d.get().hasSnapshot() || !d.get().snapshot().toString().equals(r.snapshot())) {
                LOG.warn("{}: VM backup {} of event {} lists {} differently from this delivery's result ({}): writing a new one",
                        event.vm(), backup.id(), event.id(), r.disk(), r.snapshot());
                return false;
            }
        }
        return true;
    }

    private static void storeDomain(DomainDefinition domain, Repository repository, VmBackupWriter writer, BackupEngine engine,
                                    List<HostFile> files, List<String> notes) throws IOException {
        String xml = domain.xml();
        if (!repository.config().encrypted()) {
            DomainSecrets.Stripped stripped = DomainSecrets.strip(xml);
            xml = stripped.xml();
            stripped.removed().forEach(r -> notes.add("removed from the stored domain XML (the repository is not encrypted): " + r));
        }
        files.add(writer.storeFile(HostFile.DOMAIN_XML, HostFile.DOMAIN_XML_PATH, xml.getBytes(StandardCharsets.UTF_8)));
        for (HostFileRef ref : domain.files()) {
            Path real;
            try {
                real = engine.filePolicy().validate(ref.path());
            } catch (ImageNotFoundException e) {
                notes.add(ref.role() + " " + ref.path() + " does not exist: not backed up");
                continue;
            }
            // the real path was judged: opening it without following links keeps a swapped-in symlink out
            try (InputStream in = Files.newInputStream(real, LinkOption.NOFOLLOW_LINKS)) {
                files.add(writer.storeFile(ref.role(), ref.path().toString(), in));
            }
        }
    }

    /** Each disk as the VM backup lists it: the event's disks with their snapshots, then the domain's skipped ones. */
    private static List<VmDisk> vmDisks(BackupEvent event, List<BackupResult> results) {
        List<VmDisk> disks = new ArrayList<>();
        for (DiskSpec spec : event.disks()) {
            BackupResult result = results.stream().filter(r -> r.disk().equals(spec.target())).findFirst().orElseThrow();
            // an event without the domain names no format: the image's magic says what the backup read
            String format = spec.declaredFormat().orElseGet(() -> Qcow2Header.read(spec.image()).isPresent() ? "qcow2" : "raw");
            disks.add(new VmDisk(spec.target(), "disk", spec.image().toString(), format, VmDisk.BACKED_UP,
                    SnapshotId.parse(result.snapshot()), null));
        }
        for (DomainDisk skipped : event.domain().map(DomainDefinition::skipped).orElse(List.of())) {
            disks.add(new VmDisk(skipped.target(), skipped.device(), skipped.source() == null ? null : skipped.source().toString(),
                    skipped.format(), VmDisk.SKIPPED, null, skipped.skipReason()));
        }
        return disks;
    }
}
