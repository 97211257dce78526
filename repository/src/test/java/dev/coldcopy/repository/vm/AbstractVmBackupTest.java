package dev.coldcopy.repository.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.repository.ChunkAddress;
import dev.coldcopy.repository.ChunkCorruptException;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryKeys;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.SnapshotHeader;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.SnapshotKind;
import dev.coldcopy.repository.SnapshotWriter;
import dev.coldcopy.repository.lifecycle.KeepRules;
import dev.coldcopy.repository.lifecycle.PruneResult;
import dev.coldcopy.repository.lifecycle.Pruner;
import dev.coldcopy.repository.lock.RepositoryLockedException;
import dev.coldcopy.repository.testing.StartedCamel;
import dev.coldcopy.repository.verify.Verifier;
import dev.coldcopy.repository.verify.VerifyResult;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * VM backups on a real backend, encrypted and not: host files stored and read back byte for byte,
 * deduplicated, damage found on read, a tampered record refused, prune and verify aware of VM backups.
 * The disk snapshots are small real ones made by SnapshotWriter.
 */
abstract class AbstractVmBackupTest {
    static final int KIB = 1024;
    /** small chunks so that the test files take several */
    static final int CHUNK = 256 * KIB;
    static final String NVRAM_PATH = "/var/lib/libvirt/qemu/nvram/web_VARS.fd";
    static final String KERNEL_PATH = "/var/lib/libvirt/boot/vmlinuz";
    static final byte[] XML = "<domain type='kvm'><name>web</name><os><loader type='pflash'/></os></domain>".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path work;
    @RegisterExtension
    final StartedCamel camel = new StartedCamel();
    final Random random = new Random(17);

    /** a repository location of this backend, fresh for each test */
    abstract RepositoryUri repositoryUri() throws Exception;

    abstract RepositoryOptions.Builder backendOptions(RepositoryOptions.Builder b);

    Repository init(boolean encrypted) throws Exception {
        RepositoryOptions.Builder b = backendOptions(RepositoryOptions.builder().camelContext(camel.context()).parallelism(2).chunkSize(CHUNK));
        if (encrypted) {
            Path key = work.resolve("key");
            RepositoryKeys.generateKeyFile(key);
            b.keyFile(key);
        }
        return Repository.init(repositoryUri(), b.build());
    }

    byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    /** a real, small snapshot of one disk */
    SnapshotId snapshot(Repository repo, String vm, String disk) throws Exception {
        Thread.sleep(3); // distinct creation times: the keep rules order by them
        byte[] data = randomBytes(64 * KIB);
        try (SnapshotWriter w = repo.newSnapshot(new SnapshotHeader(vm, disk, "/images/" + vm + "-" + disk + ".qcow2", 1024 * KIB,
                SnapshotKind.FULL, "test", null, null), Optional.empty())) {
            w.putData(0, data, data.length);
            w.putZero(data.length, 1024 * KIB - data.length);
            return w.commit();
        }
    }

    record Made(SnapshotId id, HostFile nvram, HostFile kernel, HostFile xml) {
    }

    /** a VM backup of the given disks and files, committed */
    Made vmBackup(Repository repo, String vm, byte[] nvram, byte[] kernel, List<VmDisk> disks) throws Exception {
        Thread.sleep(3);
        try (VmBackupWriter w = repo.vmBackups().newBackup(vm, "event-" + random.nextInt(1000))) {
            HostFile x = w.storeFile(HostFile.DOMAIN_XML, HostFile.DOMAIN_XML_PATH, XML);
            HostFile n = w.storeFile(HostFile.NVRAM, NVRAM_PATH, new ByteArrayInputStream(nvram));
            HostFile k = w.storeFile(HostFile.KERNEL, KERNEL_PATH, kernel);
            return new Made(w.commit(disks, List.of(x, n, k), List.of()), n, k, x);
        }
    }

    static int chunkCount(Repository repo) throws Exception {
        return repo.backend().list(ChunkAddress.PREFIX).size();
    }

    @ParameterizedTest(name = "encrypted={0}")
    @ValueSource(booleans = {false, true})
    void filesRoundTripAndTheRecordListsTheDisks(boolean encrypted) throws Exception {
        try (Repository repo = init(encrypted)) {
            String vm = "web 01/ü"; // needs encoding in a key
            SnapshotId vda = snapshot(repo, vm, "vda");
            SnapshotId vdb = snapshot(repo, vm, "vdb");
            byte[] nvram = randomBytes(540 * KIB);
            byte[] kernel = randomBytes(3 * 1024 * KIB);
            VmBackups backups = repo.vmBackups();
            SnapshotId id;
            HostFile nvramFile;
            HostFile kernelFile;
            HostFile xmlFile;
            Instant before = Instant.now();
            try (VmBackupWriter w = backups.newBackup(vm, "event-1")) {
                assertThat(repo.backend().list("locks/")).as("the shared lock is held").hasSize(1);
                xmlFile = w.storeFile(HostFile.DOMAIN_XML, HostFile.DOMAIN_XML_PATH, XML);
                nvramFile = w.storeFile(HostFile.NVRAM, NVRAM_PATH, new ByteArrayInputStream(nvram));
                kernelFile = w.storeFile(HostFile.KERNEL, KERNEL_PATH, kernel);
                assertThat(nvramFile.chunks()).hasSize(3);
                assertThat(kernelFile.chunks()).hasSize(12);
                assertThat(nvramFile.size()).isEqualTo(nvram.length);
                assertThat(w.statistics().chunksNew()).isEqualTo(1 + 3 + 12);
                assertThat(backups.list(Optional.empty())).as("nothing exists before the commit").isEmpty();
                id = w.commit(List.of(VmDisk.backedUp("vda", "disk", "/images/web.qcow2", "qcow2", vda),
                                VmDisk.backedUp("vdb", "disk", "/images/web-data.raw", "raw", vdb),
                                VmDisk.skipped("hdc", "cdrom", null, null, "empty cdrom drive")),
                        List.of(xmlFile, nvramFile, kernelFile), List.of("hdc skipped: empty cdrom drive"));
                assertThat(w.id()).isEqualTo(id);
            }
            assertThat(repo.backend().list("locks/")).as("the lock is released").isEmpty();
            assertThat(repo.backend().list(Repository.VMS))
                    .containsExactly("vms/" + URLEncoder.encode(vm, StandardCharsets.UTF_8) + "/" + id);

            VmBackup b = backups.load(vm, id);
            assertThat(b.id()).isEqualTo(id);
            assertThat(b.vm()).isEqualTo(vm);
            assertThat(b.eventId()).isEqualTo("event-1");
            assertThat(b.created()).isBetween(before.minusSeconds(1), Instant.now());
            assertThat(b.snapshots()).containsExactly(vda, vdb);
            assertThat(b.disk("hdc")).get().extracting(VmDisk::outcome, VmDisk::reason).containsExactly("skipped", "empty cdrom drive");
            assertThat(b.files()).containsExactly(xmlFile, nvramFile, kernelFile);
            assertThat(b.notes()).containsExactly("hdc skipped: empty cdrom drive");
            assertThat(backups.list(Optional.of(vm))).containsExactly(b);
            assertThat(backups.list(Optional.empty())).containsExactly(b);
            assertThat(backups.list(Optional.of("web 01"))).isEmpty();
            assertThat(backups.find(id)).contains(b);
            assertThat(backups.find(SnapshotId.create(Instant.now()))).isEmpty();

            assertThat(backups.readFile(b.domainXml().orElseThrow())).isEqualTo(XML);
            assertThat(backups.readFile(b.file(HostFile.NVRAM).orElseThrow())).isEqualTo(nvram);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            backups.readFile(b.file(HostFile.KERNEL).orElseThrow(), out);
            assertThat(out.toByteArray()).isEqualTo(kernel);

            byte[] stored = repo.backend().get(VmBackups.key(vm, id));
            assertThat(new String(stored, StandardCharsets.ISO_8859_1).contains(NVRAM_PATH))
                    .as("the record is readable only without encryption").isEqualTo(!encrypted);

            SnapshotId absent = SnapshotId.create(Instant.now());
            assertThatThrownBy(() -> backups.load(vm, absent)).isInstanceOf(VmBackupNotFoundException.class)
                    .hasMessage("no VM backup " + absent + " of VM " + vm + " in " + repo.uri());

            VerifyResult verified = new Verifier(repo).verify(Optional.empty());
            assertThat(verified.problems()).isEmpty();
            assertThat(verified.vmBackups()).isEqualTo(1);
            assertThat(verified.unusedChunks()).as("file chunks count as used").isZero();

            backups.delete(b);
            assertThat(backups.list(Optional.empty())).isEmpty();
            assertThat(repo.snapshotIds()).as("deleting a VM backup leaves its snapshots").containsExactlyInAnyOrder(vda, vdb);
        }
    }

    @ParameterizedTest(name = "encrypted={0}")
    @ValueSource(booleans = {false, true})
    void theSameNvramTwiceStoresNothingNew(boolean encrypted) throws Exception {
        try (Repository repo = init(encrypted)) {
            byte[] nvram = randomBytes(540 * KIB);
            SnapshotId first;
            try (VmBackupWriter w = repo.vmBackups().newBackup("web", null)) {
                first = w.commit(List.of(), List.of(w.storeFile(HostFile.NVRAM, NVRAM_PATH, nvram)), List.of());
            }
            int chunks = chunkCount(repo);
            long puts = repo.backend().putCount();
            SnapshotId second;
            try (VmBackupWriter w = repo.vmBackups().newBackup("web", null)) {
                HostFile again = w.storeFile(HostFile.NVRAM, NVRAM_PATH, new ByteArrayInputStream(nvram));
                assertThat(w.statistics()).isEqualTo(new VmBackupWriter.Statistics(0, 3, 0, 0));
                second = w.commit(List.of(), List.of(again), List.of());
            }
            assertThat(chunkCount(repo)).isEqualTo(chunks);
            // the second backup wrote its lock object (and its refreshes) and its record, no chunk
            assertThat(repo.backend().putCount() - puts).isLessThanOrEqualTo(3);
            assertThat(repo.vmBackups().list(Optional.of("web"))).extracting(VmBackup::id).containsExactly(first, second);
            VmBackup b = repo.vmBackups().load("web", second);
            assertThat(repo.vmBackups().readFile(b.file(HostFile.NVRAM).orElseThrow())).isEqualTo(nvram);
        }
    }

    @ParameterizedTest(name = "encrypted={0}")
    @ValueSource(booleans = {false, true})
    void aDamagedOrMissingFileChunkFailsTheRead(boolean encrypted) throws Exception {
        try (Repository repo = init(encrypted)) {
            Made m = vmBackup(repo, "web", randomBytes(540 * KIB), randomBytes(600 * KIB), List.of());
            VmBackup b = repo.vmBackups().load("web", m.id());
            ChunkAddress second = b.file(HostFile.NVRAM).orElseThrow().chunks().get(1).address();
            byte[] stored = repo.backend().get(second.key());
            stored[stored.length / 2] ^= 0x40;
            repo.backend().put(second.key(), stored);
            assertThatThrownBy(() -> repo.vmBackups().readFile(b.file(HostFile.NVRAM).orElseThrow()))
                    .isInstanceOf(ChunkCorruptException.class)
                    .hasMessage("chunk " + second.hex() + ": checksum mismatch (the stored bytes are damaged) (part of the nvram file " + NVRAM_PATH + ")");
            ChunkAddress kernelChunk = b.file(HostFile.KERNEL).orElseThrow().chunks().get(0).address();
            repo.backend().delete(kernelChunk.key());
            assertThatThrownBy(() -> repo.vmBackups().readFile(b.file(HostFile.KERNEL).orElseThrow(), new ByteArrayOutputStream()))
                    .isInstanceOf(ChunkCorruptException.class)
                    .hasMessageStartingWith("chunk " + kernelChunk.hex() + ": missing from")
                    .hasMessageEndingWith("(part of the kernel file " + KERNEL_PATH + ")");
            assertThat(repo.vmBackups().readFile(b.domainXml().orElseThrow())).as("the other files still read").isEqualTo(XML);
        }
    }

    @ParameterizedTest(name = "encrypted={0}")
    @ValueSource(booleans = {false, true})
    void aTamperedOrTruncatedRecordFailsToLoad(boolean encrypted) throws Exception {
        try (Repository repo = init(encrypted)) {
            Made m = vmBackup(repo, "web", randomBytes(10 * KIB), randomBytes(10 * KIB), List.of());
            String key = VmBackups.key("web", m.id());
            byte[] good = repo.backend().get(key);

            byte[] flipped = good.clone();
            flipped[flipped.length / 2] ^= 0x01;
            repo.backend().put(key, flipped);
            assertThatThrownBy(() -> repo.vmBackups().load("web", m.id())).isInstanceOf(ChunkCorruptException.class)
                    .hasMessage("vm backup " + key + ": checksum mismatch (the stored bytes are damaged)");
            assertThatThrownBy(() -> repo.vmBackups().list(Optional.empty())).as("a listing fails loudly too")
                    .isInstanceOf(ChunkCorruptException.class).hasMessageContaining(key);

            repo.backend().put(key, java.util.Arrays.copyOf(good, good.length - 30));
            assertThatThrownBy(() -> repo.vmBackups().load("web", m.id())).isInstanceOf(ChunkCorruptException.class)
                    .hasMessageContaining("vm backup " + key + ": length");

            // a record moved to another VM's name is not that VM's backup
            repo.backend().put(key, good);
            repo.backend().put(VmBackups.key("db", m.id()), good);
            assertThatThrownBy(() -> repo.vmBackups().load("db", m.id())).isInstanceOf(ChunkCorruptException.class)
                    .hasMessageContaining("vm backup " + VmBackups.key("db", m.id()));
            repo.backend().delete(VmBackups.key("db", m.id()));

            if (encrypted) {
                // a changed byte with the checksum made to fit: authentication still fails
                byte[] forged = good.clone();
                forged[40] ^= 0x01;
                CRC32C crc = new CRC32C();
                crc.update(forged, 0, forged.length - 4);
                ByteBuffer.wrap(forged, forged.length - 4, 4).putInt((int) crc.getValue());
                repo.backend().put(key, forged);
                assertThatThrownBy(() -> repo.vmBackups().load("web", m.id())).isInstanceOf(ChunkCorruptException.class)
                        .hasMessageContaining("authentication failed");
            }
            repo.backend().put(key, good);
            assertThat(repo.vmBackups().load("web", m.id()).files()).hasSize(3);
        }
    }

    @ParameterizedTest(name = "encrypted={0}")
    @ValueSource(booleans = {false, true})
    void pruneKeepsWholeVmBackupsAndCollectsTheFilesOfTheRest(boolean encrypted) throws Exception {
        try (Repository repo = init(encrypted)) {
            byte[] kernel = randomBytes(600 * KIB); // the same in every backup
            byte[][] nvram = {randomBytes(300 * KIB), randomBytes(300 * KIB), randomBytes(300 * KIB)};
            SnapshotId a1 = snapshot(repo, "web", "vda");
            SnapshotId b1 = snapshot(repo, "web", "vdb");
            Made first = vmBackup(repo, "web", nvram[0], kernel, List.of(disk("vda", a1), disk("vdb", b1)));
            SnapshotId a2 = snapshot(repo, "web", "vda");
            Made second = vmBackup(repo, "web", nvram[1], kernel, List.of(disk("vda", a2), skipped("vdb")));
            SnapshotId a3 = snapshot(repo, "web", "vda");
            Made third = vmBackup(repo, "web", nvram[2], kernel, List.of(disk("vda", a3), skipped("vdb")));
            SnapshotId d1 = snapshot(repo, "db", "vda");
            Made other = vmBackup(repo, "db", nvram[0], kernel, List.of(disk("vda", d1)));
            int chunksBefore = chunkCount(repo);

            // keep the newest per disk: vda keeps a3, vdb keeps b1, so the first VM backup keeps a1 too,
            // and the second, whose only snapshot a2 goes, goes with its nvram
            Pruner.Request rules = new Pruner.Request(Optional.empty(), Optional.empty(), KeepRules.NONE.withLast(1), true, Duration.ofSeconds(10));
            PruneResult dry = new Pruner(repo).prune(rules, d -> { });
            assertThat(dry.removedVmBackups()).extracting(PruneResult.RemovedVmBackup::vm, PruneResult.RemovedVmBackup::id,
                    PruneResult.RemovedVmBackup::reason).containsExactly(org.assertj.core.groups.Tuple.tuple("web", second.id(), "none of its snapshots is kept"));
            assertThat(dry.vmBackupsRemoved()).isEqualTo(1);
            assertThat(dry.snapshotsRemoved()).isEqualTo(1);
            assertThat(dry.chunksRemoved()).as("the second nvram's two chunks and a2's one").isEqualTo(3);
            assertThat(repo.vmBackups().list(Optional.empty())).as("a dry run changes nothing").hasSize(4);
            assertThat(chunkCount(repo)).isEqualTo(chunksBefore);

            List<PruneResult.DiskOutcome> outcomes = new ArrayList<>();
            PruneResult result = new Pruner(repo).prune(new Pruner.Request(Optional.empty(), Optional.empty(), KeepRules.NONE.withLast(1),
                    false, Duration.ofSeconds(10)), outcomes::add);
            assertThat(result.vmBackupsRemoved()).isEqualTo(1);
            assertThat(result.snapshotsRemoved()).isEqualTo(1);
            assertThat(result.chunksRemoved()).isEqualTo(3);
            assertThat(result.chunksMissing()).isZero();
            PruneResult.DiskOutcome vda = outcomes.stream().filter(o -> o.vm().equals("web") && o.disk().equals("vda")).findFirst().orElseThrow();
            assertThat(vda.removed()).containsExactly(a2);
            assertThat(vda.kept()).extracting(PruneResult.Kept::id).containsExactly(a3, a1);
            assertThat(vda.kept().get(1).reasons()).containsExactly("part of kept VM backup " + first.id());

            assertThat(repo.vmBackups().list(Optional.empty())).extracting(VmBackup::id)
                    .containsExactly(first.id(), third.id(), other.id());
            assertThat(repo.snapshotIds()).containsExactlyInAnyOrder(a1, b1, a3, d1);
            for (Made m : List.of(first, third, other)) {
                VmBackup b = repo.vmBackups().load(m.id().equals(other.id()) ? "db" : "web", m.id());
                assertThat(repo.vmBackups().readFile(b.file(HostFile.NVRAM).orElseThrow())).isEqualTo(m == third ? nvram[2] : nvram[0]);
                assertThat(repo.vmBackups().readFile(b.file(HostFile.KERNEL).orElseThrow())).isEqualTo(kernel);
            }
            for (FileChunk c : second.nvram().chunks()) {
                assertThat(repo.backend().exists(c.address().key())).as("the removed VM backup's nvram is collected").isFalse();
            }
            VerifyResult verified = new Verifier(repo).verify(Optional.empty());
            assertThat(verified.problems()).isEmpty();
            assertThat(verified.vmBackups()).isEqualTo(3);
            assertThat(verified.unusedChunks()).isZero();

            // pruning another VM leaves web's VM backups alone, even with every one of their snapshots gone
            repo.deleteSnapshot(a3);
            PruneResult onlyDb = new Pruner(repo).prune(new Pruner.Request(Optional.of("db"), Optional.empty(), KeepRules.NONE.withLast(1),
                    false, Duration.ofSeconds(10)), d -> { });
            assertThat(onlyDb.vmBackupsRemoved()).isZero();
            assertThat(repo.vmBackups().list(Optional.of("web"))).hasSize(2);
            assertThat(repo.vmBackups().readFile(repo.vmBackups().load("web", third.id()).file(HostFile.NVRAM).orElseThrow()))
                    .as("its files are still in use").isEqualTo(nvram[2]);
        }
    }

    @ParameterizedTest(name = "encrypted={0}")
    @ValueSource(booleans = {false, true})
    void verifyReportsAMissingFileChunkAndAMissingSnapshot(boolean encrypted) throws Exception {
        try (Repository repo = init(encrypted)) {
            SnapshotId a1 = snapshot(repo, "web", "vda");
            SnapshotId b1 = snapshot(repo, "web", "vdb");
            Made m = vmBackup(repo, "web", randomBytes(300 * KIB), randomBytes(300 * KIB), List.of(disk("vda", a1), disk("vdb", b1)));
            Made damaged = vmBackup(repo, "web", randomBytes(10 * KIB), randomBytes(10 * KIB), List.of(skipped("vda")));
            assertThat(new Verifier(repo).verify(Optional.empty()).problems()).isEmpty();

            ChunkAddress lost = m.kernel().chunks().get(1).address();
            repo.backend().delete(lost.key());
            repo.deleteSnapshot(b1);
            String damagedKey = VmBackups.key("web", damaged.id());
            byte[] record = repo.backend().get(damagedKey);
            record[record.length - 10] ^= 0x08;
            repo.backend().put(damagedKey, record);

            VerifyResult all = new Verifier(repo).verify(Optional.empty());
            assertThat(all.problems()).extracting(Object::toString).containsExactlyInAnyOrder(
                    "chunk " + lost.hex() + ": missing from " + repo.backend().describe() + " (used by " + m.id() + ")",
                    "vm backup " + VmBackups.key("web", m.id()) + ": disk vdb: its snapshot " + b1 + " is missing (used by " + m.id() + ")",
                    "vm backup " + damagedKey + ": checksum mismatch (the stored bytes are damaged) (used by " + damaged.id() + ")");
            assertThat(all.vmBackups()).as("the damaged record is reported, not counted").isEqualTo(1);
            assertThat(all.brokenSnapshots()).containsExactlyInAnyOrder(m.id().value(), damaged.id().value());

            // one VM backup: its files and the snapshots it lists
            VerifyResult one = new Verifier(repo).verify(Optional.of(m.id()));
            assertThat(one.problems()).extracting(VerifyResult.Problem::object)
                    .containsExactlyInAnyOrder("chunk " + lost.hex(), "vm backup " + VmBackups.key("web", m.id()));
            assertThat(one.snapshots()).as("a1 is checked with it").isEqualTo(1);
        }
    }

    @Test
    void aWriterHoldsTheSharedLockUntilItCloses() throws Exception {
        try (Repository repo = init(false)) {
            snapshot(repo, "web", "vda");
            Pruner.Request rules = new Pruner.Request(Optional.empty(), Optional.empty(), KeepRules.NONE.withLast(1), false, Duration.ofMillis(300));
            try (VmBackupWriter w = repo.vmBackups().newBackup("web", null)) {
                w.storeFile(HostFile.NVRAM, NVRAM_PATH, randomBytes(10 * KIB));
                assertThatThrownBy(() -> new Pruner(repo).prune(rules, d -> { })).isInstanceOf(RepositoryLockedException.class)
                        .hasMessageContaining("backup of VM web");
            }
            // closed without a commit: nothing refers to the nvram, the next prune collects it
            assertThat(repo.vmBackups().list(Optional.empty())).isEmpty();
            assertThat(new Pruner(repo).prune(rules, d -> { }).chunksRemoved()).isEqualTo(1);
        }
    }

    @Test
    void badInputIsRefusedAndNothingIsWritten() throws Exception {
        try (Repository repo = init(false)) {
            SnapshotId a1 = snapshot(repo, "web", "vda");
            assertThatThrownBy(() -> repo.vmBackups().newBackup(" ", null)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("needs the VM's name");
            HostFile foreign;
            try (VmBackupWriter other = repo.vmBackups().newBackup("web", null)) {
                foreign = other.storeFile(HostFile.DTB, "/boot/board.dtb", randomBytes(100));
            }
            try (VmBackupWriter w = repo.vmBackups().newBackup("web", "event-9")) {
                assertThatThrownBy(() -> w.storeFile("bios", "/x", new byte[1])).isInstanceOf(IllegalArgumentException.class)
                        .hasMessage("'bios' is not a host file role (one of domain-xml, nvram, kernel, initrd, dtb)");
                assertThatThrownBy(() -> w.storeFile(HostFile.NVRAM, " ", new byte[1])).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("needs the path");
                HostFile n1 = w.storeFile(HostFile.NVRAM, NVRAM_PATH, randomBytes(100));
                HostFile n2 = w.storeFile(HostFile.NVRAM, NVRAM_PATH + ".bak", randomBytes(100));
                List<VmDisk> disks = List.of(disk("vda", a1));
                assertThatThrownBy(() -> w.commit(disks, List.of(n1, n2), List.of())).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("two files have the role nvram");
                assertThatThrownBy(() -> w.commit(List.of(disk("vda", a1), skipped("vda")), List.of(n1), List.of()))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("disk target vda is listed twice");
                assertThatThrownBy(() -> w.commit(disks, List.of(n1, foreign), List.of())).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("the dtb file /boot/board.dtb was not stored by this backup");
                SnapshotId nowhere = SnapshotId.create(Instant.now());
                assertThatThrownBy(() -> w.commit(List.of(disk("vda", nowhere)), List.of(n1), List.of()))
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("disk vda names snapshot " + nowhere + ", which is not in");
                assertThatThrownBy(() -> w.commit(List.of(disk("vdb", a1)), List.of(n1), List.of()))
                        .as("a1 is vda's snapshot, not vdb's").isInstanceOf(IllegalArgumentException.class);
                assertThat(repo.backend().list(Repository.VMS)).as("nothing half-written").isEmpty();
                // the writer is still good after refusals
                SnapshotId id = w.commit(disks, List.of(n1), List.of());
                assertThatThrownBy(() -> w.storeFile(HostFile.KERNEL, KERNEL_PATH, new byte[1])).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("already committed");
                assertThat(repo.vmBackups().load("web", id).files()).containsExactly(n1);
            }
            assertThat(repo.backend().list("locks/")).isEmpty();
        }
    }

    static VmDisk disk(String target, SnapshotId snapshot) {
        return VmDisk.backedUp(target, "disk", "/images/" + target + ".qcow2", "qcow2", snapshot);
    }

    static VmDisk skipped(String target) {
        return VmDisk.skipped(target, "disk", null, null, "network disk");
    }
}
