package dev.coldcopy.repository.lifecycle;

import dev.coldcopy.repository.ChunkAddress;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryException;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.repository.SnapshotSummary;
import dev.coldcopy.repository.lock.LockMode;
import dev.coldcopy.repository.lock.RepositoryLock;
import dev.coldcopy.repository.lock.RepositoryLocks;
import dev.coldcopy.repository.vm.VmBackup;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forgets the snapshots the keep rules do not keep (and the VM backups none of whose snapshots is kept,
 * see {@link VmBackupRetention}), then deletes every chunk no remaining snapshot or VM backup uses.
 *
 * <p>Safety, in order: (1) the whole prune holds the repository's EXCLUSIVE lock, so no backup runs while
 * it decides and deletes (a backup waits for it; it waits for running backups, up to {@code wait}); (2)
 * snapshots go first, chunks after: a prune killed anywhere leaves every remaining snapshot whole, and
 * the next prune finishes the job (its stale lock is recognised: its process is gone); (3) the mark
 * reads every remaining manifest and VM backup of the repository, not only of the disks pruned; (4) right before
 * deleting chunks it confirms its lock is still its own. Disk leases (nodes of a fleet keeping a disk to
 * themselves) are not waited for: they protect no chunk; stale ones are removed.
 */
public final class Pruner {
    private static final Logger LOG = LoggerFactory.getLogger(Pruner.class);
    private static final int DELETE_BATCH = 1000;

    private final Repository repository;

    public Pruner(Repository repository) {
        this.repository = repository;
    }

    /**
     * @param vm       only this VM's snapshots are candidates (chunks are collected repository-wide all the same)
     * @param disk     only this disk target's
     * @param rules    the keep rules of every VM without rules of its own
     * @param perVm    rules of particular VMs; a VM whose rules are empty keeps every snapshot
     * @param lockWait how long to wait for running backups before giving up
     */
    public record Request(Optional<String> vm, Optional<String> disk, KeepRules rules, Map<String, KeepRules> perVm, boolean dryRun,
                          Duration lockWait) {
        public Request(Optional<String> vm, Optional<String> disk, KeepRules rules, boolean dryRun, Duration lockWait) {
            this(vm, disk, rules, Map.of(), dryRun, lockWait);
        }

        public Request {
            perVm = Map.copyOf(perVm);
            if (rules.isEmpty() && perVm.values().stream().allMatch(KeepRules::isEmpty)) {
                throw new IllegalArgumentException("no keep rule given: refusing to remove every snapshot but the newest "
                        + "(give at least one of --keep-last, --keep-hourly, --keep-daily, --keep-weekly, --keep-monthly, "
                        + "--keep-yearly, --keep-within)");
            }
        }
    }

    /** @param report called with each disk's outcome as soon as it is decided */
    public PruneResult prune(Request request, Consumer<PruneResult.DiskOutcome> report) throws IOException {
        long start = System.nanoTime();
        RepositoryLocks locks = repository.locks();
        int staleRemoved = 0;
        RepositoryLock lock = null;
        if (!request.dryRun()) {
            staleRemoved = (int) locks.list().stream().filter(RepositoryLocks.ListedLock::stale).count();
            lock = locks.acquire(LockMode.EXCLUSIVE, "prune", request.lockWait());
            // leases guard disks against two nodes, not chunks against a prune: never waited for, only tidied
            staleRemoved += locks.removeStaleLeases().size();
        }
        try {
            // 1. decide, per disk, by the keep rules
            Map<String, List<SnapshotSummary>> byDisk = new LinkedHashMap<>();
            for (SnapshotSummary s : repository.list(request.vm())) {
                if (request.disk().isEmpty() || request.disk().get().equals(s.disk())) {
                    byDisk.computeIfAbsent(s.vm() + "\u0000" + s.disk(), k -> new ArrayList<>()).add(s);
                }
            }
            List<String> manifests = repository.manifestKeys();
            Map<String, List<RetentionPolicy.Decision>> decisions = new LinkedHashMap<>();
            Set<String> ruledOut = new HashSet<>();
            for (Map.Entry<String, List<SnapshotSummary>> disk : byDisk.entrySet()) {
                KeepRules rules = rulesOf(request, disk.getValue().get(0).vm());
                List<RetentionPolicy.Decision> ds = new RetentionPolicy(rules).apply(disk.getValue(), Set.of());
                decisions.put(disk.getKey(), ds);
                for (RetentionPolicy.Decision d : ds) {
                    if (!d.keep() && !rules.isEmpty()) {
                        ruledOut.add(Repository.manifestKey(d.snapshot().vm(), d.snapshot().disk(), d.snapshot().id()));
                    }
                }
            }
            // 1b. VM backups: one with a kept snapshot keeps all it lists, one with none goes
            List<VmBackup> vmBackups = repository.vmBackups().list(Optional.empty());
            VmBackupRetention.Plan vmPlan = VmBackupRetention.plan(vmBackups, new HashSet<>(manifests), ruledOut,
                    vm -> request.vm().isEmpty() || request.vm().get().equals(vm), request.disk().isPresent(), vm -> rulesOf(request, vm));
            Set<String> forgotten = vmPlan.forgotten();
            List<PruneResult.DiskOutcome> outcomes = new ArrayList<>();
            int kept = 0;
            for (List<RetentionPolicy.Decision> ds : decisions.values()) {
                List<PruneResult.Kept> keep = new ArrayList<>();
                List<SnapshotId> remove = new ArrayList<>();
                SnapshotSummary any = ds.get(0).snapshot();
                boolean noRules = rulesOf(request, any.vm()).isEmpty();
                for (RetentionPolicy.Decision d : ds) {
                    String key = Repository.manifestKey(d.snapshot().vm(), d.snapshot().disk(), d.snapshot().id());
                    SnapshotId byVmBackup = vmPlan.rescued().get(key);
                    if (d.keep()) {
                        keep.add(new PruneResult.Kept(d.snapshot().id(), d.reasons()));
                    } else if (noRules) {
                        keep.add(new PruneResult.Kept(d.snapshot().id(), List.of("no keep rule for this VM")));
                    } else if (byVmBackup != null) {
                        keep.add(new PruneResult.Kept(d.snapshot().id(), List.of("part of kept VM backup " + byVmBackup)));
                    } else {
                        remove.add(d.snapshot().id());
                    }
                }
                kept += keep.size();
                PruneResult.DiskOutcome outcome = new PruneResult.DiskOutcome(any.vm(), any.disk(), keep, remove);
                outcomes.add(outcome);
                report.accept(outcome);
            }
            // 2. forget: VM backups first (none ever names a snapshot that is gone), then manifests, so a
            // snapshot is either whole or gone
            Set<SnapshotId> vmBackupsGone = new HashSet<>();
            vmPlan.removed().forEach(r -> vmBackupsGone.add(r.id()));
            List<VmBackup> vmBackupsLeft = vmBackups.stream().filter(b -> !vmBackupsGone.contains(b.id())).toList();
            if (!request.dryRun()) {
                for (VmBackup b : vmBackups) {
                    if (vmBackupsGone.contains(b.id())) {
                        repository.vmBackups().delete(b);
                    }
                }
                if (!vmBackupsGone.isEmpty()) {
                    LOG.info("prune: removed {} VM backups", vmBackupsGone.size());
                }
                for (String key : forgotten) {
                    repository.deleteManifestKey(key);
                }
                if (!forgotten.isEmpty()) {
                    LOG.info("prune: removed {} snapshots", forgotten.size());
                }
                repository.removeOrphanSummaries();
            }
            // 3. mark: every chunk of every remaining snapshot and VM backup in the repository
            ChunkUsage usage = mark(manifests.stream().filter(k -> !forgotten.contains(k)).toList());
            vmBackupsLeft.forEach(b -> b.files().forEach(usage::addFile));
            // 4. sweep
            Map<String, Long> stored = repository.backend().listSizes(ChunkAddress.PREFIX);
            List<String> garbage = new ArrayList<>();
            long bytesFreed = 0;
            Set<ChunkAddress> present = new HashSet<>();
            for (Map.Entry<String, Long> e : stored.entrySet()) {
                ChunkAddress a = ChunkAddress.fromKey(e.getKey());
                if (a == null) {
                    continue; // not a chunk (a foreign file): never ours to delete
                }
                present.add(a);
                if (!usage.referenced().contains(a)) {
                    garbage.add(e.getKey());
                    bytesFreed += e.getValue();
                }
            }
            long missing = usage.referenced().stream().filter(a -> !present.contains(a)).count();
            if (!request.dryRun() && !garbage.isEmpty()) {
                lock.confirm();
                delete(garbage);
                LOG.info("prune: removed {} unused chunks ({} bytes)", garbage.size(), bytesFreed);
            }
            ChunkUsage.Slack slack = usage.slack();
            return new PruneResult(request.dryRun(), outcomes, forgotten.size(), kept, garbage.size(), bytesFreed,
                    usage.referenced().size(), slack.chunks(), slack.bytes(), missing, staleRemoved,
                    (System.nanoTime() - start) / 1_000_000, vmPlan.removed());
        } finally {
            if (lock != null) {
                lock.close();
            }
        }
    }

    private static KeepRules rulesOf(Request request, String vm) {
        return request.perVm().getOrDefault(vm, request.rules());
    }

    private ChunkUsage mark(List<String> manifestKeys) throws IOException {
        ChunkUsage usage = new ChunkUsage();
        runParallel(manifestKeys, key -> {
            SnapshotManifest m = repository.loadManifestKey(key);
            usage.add(m);
        });
        return usage;
    }

    private void delete(List<String> keys) throws IOException {
        List<List<String>> batches = new ArrayList<>();
        for (int i = 0; i < keys.size(); i += DELETE_BATCH) {
            batches.add(keys.subList(i, Math.min(keys.size(), i + DELETE_BATCH)));
        }
        runParallel(batches, batch -> {
            repository.backend().deleteAll(batch);
        });
    }

    private interface Work<T> {
        void run(T item) throws IOException;
    }

    private <T> void runParallel(List<T> items, Work<T> work) throws IOException {
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(2, repository.options().parallelism()), r -> {
            Thread t = new Thread(r, "coldcopy-prune");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (T item : items) {
                futures.add(pool.submit(() -> {
                    work.run(item);
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new RepositoryException(String.valueOf(e.getCause()), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("prune interrupted");
        } finally {
            pool.shutdownNow();
        }
    }
}
