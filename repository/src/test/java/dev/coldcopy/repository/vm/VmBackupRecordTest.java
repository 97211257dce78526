package dev.coldcopy.repository.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.repository.ChunkAddress;
import dev.coldcopy.repository.ChunkCorruptException;
import dev.coldcopy.repository.SnapshotId;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The VM backup record's rules and its JSON form (pure logic: the repository side is in AbstractVmBackupTest). */
class VmBackupRecordTest {
    private static final Instant T = Instant.parse("2026-11-25T20:36:27.123Z");
    private static final SnapshotId ID = SnapshotId.create(T);
    private static final SnapshotId SNAP = SnapshotId.create(T.minusSeconds(5));
    private static final String SHA = "ab".repeat(32);
    private static final ChunkAddress A = ChunkAddress.parse("01".repeat(32));
    private static final ChunkAddress B = ChunkAddress.parse("02".repeat(32));

    static HostFile file(String role, long... lengths) {
        List<FileChunk> chunks = new ArrayList<>();
        long size = 0;
        for (int i = 0; i < lengths.length; i++) {
            chunks.add(new FileChunk(i % 2 == 0 ? A : B, (int) lengths[i]));
            size += lengths[i];
        }
        return new HostFile(role, "/var/lib/libvirt/" + role, size, SHA, chunks);
    }

    static VmBackup sample() {
        return new VmBackup(ID, "web 01/ü", "event-7", T,
                List.of(VmDisk.backedUp("vda", "disk", "/images/web.qcow2", "qcow2", SNAP),
                        VmDisk.skipped("vdb", "disk", null, "raw", "network disk"),
                        VmDisk.skipped("hdc", "cdrom", null, null, "no source")),
                List.of(file(HostFile.DOMAIN_XML, 900), file(HostFile.NVRAM, 262144, 290816), file(HostFile.KERNEL)),
                List.of("hdc skipped: empty cdrom drive"));
    }

    @Test
    void aRecordRoundTripsThroughJson() throws Exception {
        VmBackup b = sample();
        VmBackup back = VmBackupCodec.decode("test", VmBackupCodec.encode(b));
        assertThat(back).isEqualTo(b);
        assertThat(back.domainXml()).get().extracting(HostFile::size).isEqualTo(900L);
        assertThat(back.file(HostFile.NVRAM)).get().extracting(f -> f.chunks().size()).isEqualTo(2);
        assertThat(back.file(HostFile.INITRD)).isEmpty();
        assertThat(back.snapshots()).containsExactly(SNAP);
        assertThat(back.disk("vdb")).get().extracting(VmDisk::reason).isEqualTo("network disk");
        assertThatThrownBy(() -> back.file("bios")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'bios' is not a host file role");
    }

    @Test
    void unknownFieldsAreIgnoredAndANewerFormatIsRefused() throws Exception {
        String json = new String(VmBackupCodec.encode(sample()), StandardCharsets.UTF_8);
        String extended = json.replaceFirst("\\{", "{\"futureField\":{\"x\":1},");
        assertThat(VmBackupCodec.decode("test", extended.getBytes(StandardCharsets.UTF_8))).isEqualTo(sample());
        String newer = json.replace("\"format\":1", "\"format\":2");
        assertThatThrownBy(() -> VmBackupCodec.decode("vm backup vms/web/x", newer.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(ChunkCorruptException.class).hasMessageContaining("format 2 is newer");
    }

    @Test
    void aBrokenRecordFailsAsCorruptNamingIt() {
        assertThatThrownBy(() -> VmBackupCodec.decode("vm backup vms/web/x", "{\"id\":".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(ChunkCorruptException.class).hasMessageStartingWith("vm backup vms/web/x: is not a VM backup record");
        String json = new String(VmBackupCodec.encode(sample()), StandardCharsets.UTF_8);
        String badRole = json.replace("\"role\":\"nvram\"", "\"role\":\"bios\"");
        assertThatThrownBy(() -> VmBackupCodec.decode("vm backup vms/web/x", badRole.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(ChunkCorruptException.class).hasMessageContaining("is not a valid VM backup record")
                .hasMessageContaining("'bios' is not a host file role");
        String badSize = json.replace("\"size\":900", "\"size\":901");
        assertThatThrownBy(() -> VmBackupCodec.decode("vm backup vms/web/x", badSize.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(ChunkCorruptException.class).hasMessageContaining("hold 900 bytes, its size is 901");
    }

    @Test
    void absurdInputIsRefusedWithTheReason() {
        List<VmDisk> oneDisk = List.of(VmDisk.backedUp("vda", "disk", "/i", "qcow2", SNAP));
        assertThatThrownBy(() -> new VmBackup(ID, " ", null, T, oneDisk, List.of(), List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs the VM's name");
        assertThatThrownBy(() -> new VmBackup(ID, "web", null, T,
                List.of(VmDisk.backedUp("vda", "disk", "/i", "qcow2", SNAP), VmDisk.skipped("vda", "cdrom", null, null, "empty")),
                List.of(), List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("disk target vda is listed twice");
        assertThatThrownBy(() -> new VmBackup(ID, "web", null, T, oneDisk,
                List.of(file(HostFile.NVRAM, 10), file(HostFile.NVRAM, 20)), List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("two files have the role nvram");
        List<VmDisk> many = new ArrayList<>();
        for (int i = 0; i <= VmBackup.MAX_DISKS; i++) {
            many.add(VmDisk.skipped("sd" + i, "disk", null, null, "test"));
        }
        assertThatThrownBy(() -> new VmBackup(ID, "web", null, T, many, List.of(), List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("257 disks");
        assertThatThrownBy(() -> new VmBackup(ID, "web", null, T, oneDisk, List.of(), Collections.nCopies(VmBackup.MAX_NOTES + 1, "n")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("notes");
        List<VmDisk> withNull = new ArrayList<>(oneDisk);
        withNull.add(null);
        assertThatThrownBy(() -> new VmBackup(ID, "web", null, T, withNull, List.of(), List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("without empty entries");
        assertThatThrownBy(() -> new HostFile("bios", "/x", 0, SHA, List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("one of domain-xml, nvram, kernel, initrd, dtb");
        assertThatThrownBy(() -> new HostFile(HostFile.NVRAM, "", 0, SHA, List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs the path");
        assertThatThrownBy(() -> new HostFile(HostFile.NVRAM, "/x", 0, "abc", List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("64 hex digits");
        assertThatThrownBy(() -> new VmDisk("vda", "disk", "/i", "qcow2", VmDisk.BACKED_UP, null, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("names no snapshot");
        assertThatThrownBy(() -> new VmDisk("vda", "disk", "/i", "qcow2", VmDisk.SKIPPED, null, " "))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gives no reason");
        assertThatThrownBy(() -> new VmDisk("vda", "disk", "/i", "qcow2", "lost", null, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outcome must be backed-up or skipped");
        assertThatThrownBy(() -> new VmDisk("", "disk", "/i", "qcow2", VmDisk.SKIPPED, null, "x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs its target name");
    }
}
