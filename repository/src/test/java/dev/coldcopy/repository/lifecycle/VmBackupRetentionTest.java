package dev.coldcopy.repository.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.vm.VmBackup;
import dev.coldcopy.repository.vm.VmDisk;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which VM backups a prune keeps and which snapshots they keep (pure logic; the repository side is in AbstractVmBackupTest). */
class VmBackupRetentionTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final KeepRules LAST_2 = KeepRules.NONE.withLast(2);

    private int clock;

    private SnapshotId nextId() {
        return SnapshotId.create(T0.plusSeconds(60L * clock++));
    }

    private VmBackup backup(String vm, Map<String, SnapshotId> disks) {
        SnapshotId id = nextId();
        List<VmDisk> list = new ArrayList<>();
        disks.forEach((target, snap) -> list.add(snap == null ? VmDisk.skipped(target, "disk", null, null, "network disk")
                : VmDisk.backedUp(target, "disk", "/images/" + target, "qcow2", snap)));
        list.sort((a, b) -> a.target().compareTo(b.target()));
        return new VmBackup(id, vm, null, T0.plusSeconds(60L * (clock - 1)), list, List.of(), List.of());
    }

    private static String key(String vm, String disk, SnapshotId id) {
        return Repository.manifestKey(vm, disk, id);
    }

    private static VmBackupRetention.Plan plan(List<VmBackup> backups, Set<String> manifests, Set<String> ruledOut,
                                               String onlyVm, boolean diskFilter, KeepRules rules) {
        return VmBackupRetention.plan(backups, manifests, ruledOut, vm -> onlyVm == null || onlyVm.equals(vm), diskFilter, vm -> rules);
    }

    @Test
    void aKeptSnapshotKeepsItsWholeVmBackupAndOneWithNoneKeptGoes() {
        SnapshotId a1 = nextId();
        SnapshotId b1 = nextId();
        VmBackup first = backup("web", Map.of("vda", a1, "vdb", b1));
        SnapshotId a2 = nextId();
        VmBackup second = backup("web", mapOf("vda", a2, "vdb", null));
        Set<String> manifests = Set.of(key("web", "vda", a1), key("web", "vdb", b1), key("web", "vda", a2));
        // say the rules let a1 and a2 go and keep b1
        Set<String> ruledOut = Set.of(key("web", "vda", a1), key("web", "vda", a2));
        VmBackupRetention.Plan p = plan(List.of(first, second), manifests, ruledOut, null, false, LAST_2);
        assertThat(p.rescued()).containsOnlyKeys(key("web", "vda", a1)).containsValue(first.id());
        assertThat(p.forgotten()).containsExactly(key("web", "vda", a2));
        assertThat(p.removed()).extracting(PruneResult.RemovedVmBackup::id).containsExactly(second.id());
        assertThat(p.removed().get(0).reason()).isEqualTo("none of its snapshots is kept");
    }

    @Test
    void onlyVmBackupsOfCandidateVmsGo() {
        SnapshotId d1 = nextId();
        VmBackup db = backup("db", Map.of("vda", d1));
        Set<String> ruledOut = Set.of(key("db", "vda", d1));
        assertThat(plan(List.of(db), Set.of(key("db", "vda", d1)), ruledOut, "web", false, LAST_2).removed()).isEmpty();
        assertThat(plan(List.of(db), Set.of(key("db", "vda", d1)), ruledOut, "db", false, LAST_2).removed()).hasSize(1);
        // its snapshots are all gone already (removed by hand): nothing is kept, so it goes too
        assertThat(plan(List.of(db), Set.of(), Set.of(), null, false, LAST_2).removed()).hasSize(1);
    }

    @Test
    void rescuingReachesAFixedPoint() {
        SnapshotId a1 = nextId();
        SnapshotId b1 = nextId();
        SnapshotId c1 = nextId();
        // two records list b1 (a retried VM backup): keeping the first must keep c1 of the second too
        VmBackup first = backup("web", Map.of("vda", a1, "vdb", b1));
        VmBackup second = backup("web", Map.of("vdb", b1, "vdc", c1));
        Set<String> manifests = Set.of(key("web", "vda", a1), key("web", "vdb", b1), key("web", "vdc", c1));
        Set<String> ruledOut = Set.of(key("web", "vdb", b1), key("web", "vdc", c1));
        VmBackupRetention.Plan p = plan(List.of(second, first), manifests, ruledOut, null, false, LAST_2);
        assertThat(p.forgotten()).isEmpty();
        assertThat(p.rescued()).containsOnlyKeys(key("web", "vdb", b1), key("web", "vdc", c1));
        assertThat(p.removed()).isEmpty();
    }

    @Test
    void vmBackupsWithoutSnapshotsFollowTheKeepRulesByTheirOwnTime() {
        List<VmBackup> skippedOnly = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            skippedOnly.add(backup("net", mapOf("vda", null)));
        }
        VmBackupRetention.Plan p = plan(skippedOnly, Set.of(), Set.of(), null, false, LAST_2);
        assertThat(p.removed()).extracting(PruneResult.RemovedVmBackup::id)
                .containsExactly(skippedOnly.get(0).id(), skippedOnly.get(1).id());
        assertThat(p.removed().get(0).reason()).contains("no snapshot");
        assertThat(plan(skippedOnly, Set.of(), Set.of(), null, true, LAST_2).removed()).as("a disk filter leaves them").isEmpty();
        assertThat(plan(skippedOnly, Set.of(), Set.of(), null, false, KeepRules.NONE).removed()).as("no rules for the VM").isEmpty();
        assertThat(plan(skippedOnly, Set.of(), Set.of(), "web", false, LAST_2).removed()).as("another VM is pruned").isEmpty();
    }

    private static Map<String, SnapshotId> mapOf(String k1, SnapshotId v1, String k2, SnapshotId v2) {
        Map<String, SnapshotId> m = new java.util.HashMap<>();
        m.put(k1, v1);
        m.put(k2, v2);
        return m;
    }

    private static Map<String, SnapshotId> mapOf(String k1, SnapshotId v1) {
        Map<String, SnapshotId> m = new java.util.HashMap<>();
        m.put(k1, v1);
        return m;
    }
}
