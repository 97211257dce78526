package dev.coldcopy.repository.lifecycle;

import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.SnapshotKind;
import dev.coldcopy.repository.SnapshotSummary;
import dev.coldcopy.repository.vm.VmBackup;
import dev.coldcopy.repository.vm.VmDisk;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * What a prune does with VM backups, once the keep rules have chosen per disk. Pure logic.
 *
 * <p>A VM backup is one stop event: restoring the VM needs all of its disks from that moment. So a VM
 * backup with at least one kept snapshot keeps every snapshot it lists (even those the rules of their
 * disk let go), and one none of whose snapshots is kept goes (its host files become garbage). A VM
 * backup that lists no snapshot (every disk skipped) follows the VM's keep rules by its own time, as the
 * snapshots of a disk would. Only VM backups of candidate VMs go; with a disk filter, one without
 * snapshots concerns no disk asked for and stays.
 */
final class VmBackupRetention {
    /** the disk name the snapshot-less VM backups of a VM are ranked under (a name no target has) */
    private static final String NO_DISK = "";

    private VmBackupRetention() {
    }

    /**
     * @param forgotten the manifest keys the prune forgets after the VM backups had their say
     * @param rescued   manifest keys the rules let go but a kept VM backup keeps, and that VM backup's id
     * @param removed   the VM backups that go
     */
    record Plan(Set<String> forgotten, Map<String, SnapshotId> rescued, List<PruneResult.RemovedVmBackup> removed) {
    }

    /**
     * @param backups      every VM backup of the repository
     * @param manifests    the key of every snapshot in the repository
     * @param forgotten    the keys of the snapshots the keep rules let go
     * @param candidateVm  whether a VM's backups may go (the prune's --vm filter)
     * @param diskFilter   whether the prune looks at one disk target only
     * @param rulesOf      the keep rules of a VM
     */
    static Plan plan(List<VmBackup> backups, Set<String> manifests, Set<String> forgotten, Predicate<String> candidateVm,
                     boolean diskFilter, Function<String, KeepRules> rulesOf) {
        Set<String> left = new HashSet<>(forgotten);
        Map<String, SnapshotId> rescued = new LinkedHashMap<>();
        // to a fixed point: a snapshot rescued for one VM backup may be listed by another too
        boolean changed = true;
        while (changed) {
            changed = false;
            for (VmBackup b : backups) {
                List<String> keys = snapshotKeys(b);
                if (keys.stream().anyMatch(k -> kept(k, manifests, left))) {
                    for (String k : keys) {
                        if (left.remove(k)) {
                            rescued.put(k, b.id());
                            changed = true;
                        }
                    }
                }
            }
        }
        List<PruneResult.RemovedVmBackup> removed = new ArrayList<>();
        Map<String, List<VmBackup>> withoutSnapshots = new LinkedHashMap<>();
        for (VmBackup b : backups) {
            if (!candidateVm.test(b.vm())) {
                continue;
            }
            List<String> keys = snapshotKeys(b);
            if (keys.isEmpty()) {
                if (!diskFilter) {
                    withoutSnapshots.computeIfAbsent(b.vm(), v -> new ArrayList<>()).add(b);
                }
            } else if (keys.stream().noneMatch(k -> kept(k, manifests, left))) {
                removed.add(new PruneResult.RemovedVmBackup(b.vm(), b.id(), "none of its snapshots is kept"));
            }
        }
        withoutSnapshots.forEach((vm, list) -> removed.addAll(rank(list, rulesOf.apply(vm))));
        removed.sort(java.util.Comparator.comparing(PruneResult.RemovedVmBackup::id));
        return new Plan(left, rescued, removed);
    }

    /** VM backups without snapshots, ranked by the keep rules as a disk's snapshots would be */
    private static List<PruneResult.RemovedVmBackup> rank(List<VmBackup> backups, KeepRules rules) {
        if (rules.isEmpty()) {
            return List.of(); // a VM without rules keeps everything
        }
        Map<SnapshotId, VmBackup> byId = new LinkedHashMap<>();
        List<SnapshotSummary> asSnapshots = new ArrayList<>();
        for (VmBackup b : backups) {
            byId.put(b.id(), b);
            // FULL: none of them is a base to keep for the next incremental, only the newest is kept regardless
            asSnapshots.add(new SnapshotSummary(b.id(), b.vm(), NO_DISK, b.created(), SnapshotKind.FULL, "", 0, 0, 0,
                    Optional.empty(), null, null));
        }
        List<PruneResult.RemovedVmBackup> out = new ArrayList<>();
        for (RetentionPolicy.Decision d : new RetentionPolicy(rules).apply(asSnapshots, Set.of())) {
            if (!d.keep()) {
                VmBackup b = byId.get(d.snapshot().id());
                out.add(new PruneResult.RemovedVmBackup(b.vm(), b.id(), "it has no snapshot and no keep rule keeps it"));
            }
        }
        return out;
    }

    private static boolean kept(String key, Set<String> manifests, Set<String> forgotten) {
        return manifests.contains(key) && !forgotten.contains(key);
    }

    static List<String> snapshotKeys(VmBackup b) {
        List<String> keys = new ArrayList<>();
        for (VmDisk d : b.disks()) {
            if (d.hasSnapshot()) {
                keys.add(Repository.manifestKey(b.vm(), d.target(), d.snapshot()));
            }
        }
        return keys;
    }
}
