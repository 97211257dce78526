package dev.coldcopy.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.event.BadEventException;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class DomainDefinitionTest {

    @Test
    void readsWhatLibvirtGivesTheHookOfAUefiVm() {
        String xml = DomainSamples.read("uefi-hook-stdin.xml");
        DomainDefinition d = DomainDefinition.parse(xml);
        assertThat(d.name()).isEqualTo("coldcopy-test-uefi");
        assertThat(d.uuid()).isEqualTo("1aa0e8ba-3b38-4eac-8349-2e2cf04cbd5f");
        assertThat(d.xml()).isSameAs(xml);
        assertThat(d.disks()).containsExactly(
                new DomainDisk("vda", "disk", "file", "qcow2", Path.of("/tmp/domxml/web.qcow2"), true, null),
                new DomainDisk("vdb", "disk", "file", "raw", Path.of("/tmp/domxml/data.img"), true, null),
                new DomainDisk("sda", "cdrom", "file", "raw", Path.of("/tmp/domxml/install.iso"), false, "cdrom"));
        assertThat(d.backedUp()).extracting(DomainDisk::target).containsExactly("vda", "vdb");
        assertThat(d.skipped()).extracting(DomainDisk::describe).containsExactly("sda cdrom");
        // the loader (/usr/share/OVMF/OVMF_CODE_4M.fd) is the host's firmware, not the VM's
        assertThat(d.files()).containsExactly(
                new HostFileRef(HostFileRef.NVRAM, Path.of("/tmp/domxml/nvram/coldcopy-test-uefi_VARS.fd")));
        assertThat(d.file(HostFileRef.KERNEL)).isEmpty();
    }

    @Test
    void everyDiskOfAMixedVmIsListedWithWhyItIsSkipped() {
        DomainDefinition d = DomainDefinition.parse(DomainSamples.read("kernel-boot-security-info.xml"));
        assertThat(d.uuid()).isEqualTo("3e3fce45-4f53-4fa7-bb32-11f34168b82b");
        assertThat(d.backedUp()).containsExactly(
                new DomainDisk("vda", "disk", "file", "raw", Path.of("/tmp/domxml/data.img"), true, null));
        assertThat(d.skipped()).extracting(DomainDisk::describe).containsExactly(
                "vdb network disk (rbd)",
                "vdc network disk (https)",
                "vdd block device",
                "vde format vmdk is not supported",
                "vdf shareable: may be in use by another VM",
                "hdc cdrom",
                "fda floppy");
        assertThat(d.skipped()).filteredOn(disk -> disk.target().equals("vdd")).singleElement()
                .satisfies(disk -> assertThat(disk.source()).isEqualTo(Path.of("/dev/vg0/lv-data")));
        assertThat(d.skipped()).filteredOn(disk -> disk.type().equals("network"))
                .allSatisfy(disk -> assertThat(disk.source()).isNull());
        assertThat(d.files()).containsExactly(
                new HostFileRef(HostFileRef.KERNEL, Path.of("/tmp/domxml/vmlinuz")),
                new HostFileRef(HostFileRef.INITRD, Path.of("/tmp/domxml/initrd.img")),
                new HostFileRef(HostFileRef.DTB, Path.of("/tmp/domxml/board.dtb")));
    }

    @Test
    void readsTheNvramSourceFormAndOtherDiskTypes() {
        DomainDefinition d = DomainDefinition.parse(DomainSamples.read("nvram-source-inactive.xml"));
        assertThat(d.files()).containsExactly(new HostFileRef(HostFileRef.NVRAM, Path.of("/tmp/domxml/nvram/efi2_VARS.fd")));
        assertThat(d.backedUp()).extracting(DomainDisk::target, DomainDisk::source)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("vda", Path.of("/tmp/domxml/web.qcow2")));
        assertThat(d.skipped()).extracting(DomainDisk::describe)
                .containsExactly("vdb storage pool volume", "sdc host directory", "sdb lun");
    }

    @Test
    void aFileDiskWithoutDriverTypeIsRawAsLibvirtAssumes() {
        DomainDefinition d = DomainDefinition.parse(domain("""
                <disk type='file' device='disk'><source file='/vms/a.img'/><target dev='vda'/></disk>
                <disk device='disk'><driver name='qemu'/><source file='/vms/b.img'/><target dev='vdb'/></disk>"""));
        assertThat(d.backedUp()).extracting(DomainDisk::format).containsExactly("raw", "raw");
        assertThat(d.backedUp()).extracting(DomainDisk::type).containsExactly("file", "file");
    }

    static Stream<Arguments> skippedDisks() {
        return Stream.of(
                Arguments.of("<disk type='file' device='disk'><driver type='qcow2'/><target dev='vda'/></disk>", "no source file"),
                Arguments.of("<disk type='file' device='disk'><driver type='qcow2'/><source file='/v/a'/><target dev='vda'/><readonly/></disk>", "read-only"),
                Arguments.of("<disk type='file' device='disk'><driver type='raw'/><source file='/v/a'/><target dev='vda'/><shareable/></disk>", "shareable: may be in use by another VM"),
                Arguments.of("<disk type='file' device='disk'><driver type='qcow2'/><source file='/v/a'/><target dev='vda'/><encryption format='luks'><secret type='passphrase' uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'/></encryption></disk>", "encrypted: needs its libvirt secret"),
                Arguments.of("<disk type='file' device='disk'><driver type='qcow2'/><source file='/v/a'><encryption format='luks'><secret type='passphrase' uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'/></encryption></source><target dev='vda'/></disk>", "encrypted: needs its libvirt secret"),
                Arguments.of("<disk type='file' device='disk'><driver type='luks'/><source file='/v/a'/><target dev='vda'/></disk>", "format luks is not supported"),
                Arguments.of("<disk type='network' device='disk'><driver type='raw'/><source protocol='iscsi' name='iqn.2013-07.com.example:t/1'/><target dev='sda'/></disk>", "network disk (iscsi)"),
                Arguments.of("<disk type='network' device='disk'><target dev='sda'/></disk>", "network disk"),
                Arguments.of("<disk type='nvme' device='disk'><driver type='raw'/><source type='pci' managed='yes' namespace='1'/><target dev='vde'/></disk>", "NVMe device"),
                Arguments.of("<disk type='vhostuser' device='disk'><driver type='raw'/><source type='unix' path='/tmp/vhost.sock'/><target dev='vdf'/></disk>", "vhost-user device"),
                Arguments.of("<disk type='strange' device='disk'><source file='/v/a'/><target dev='vdg'/></disk>", "disk type strange is not supported"),
                // a skipped disk's source is not checked: it is never opened
                Arguments.of("<disk type='file' device='cdrom'><source file='relative.iso'/><target dev='hdc'/></disk>", "cdrom"));
    }

    @ParameterizedTest
    @MethodSource("skippedDisks")
    void skipsWithAReason(String disk, String reason) {
        DomainDefinition d = DomainDefinition.parse(domain(disk));
        assertThat(d.backedUp()).isEmpty();
        assertThat(d.skipped()).singleElement().satisfies(s -> {
            assertThat(s.skipReason()).isEqualTo(reason);
            assertThat(s.backedUp()).isFalse();
        });
    }

    static Stream<Arguments> badDomains() {
        return Stream.of(
                Arguments.of("", "domainXml is empty"),
                Arguments.of("<domain><name>x</name>", "domainXml is not valid XML"),
                Arguments.of("<!DOCTYPE d [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><domain><name>&e;</name></domain>", "domainXml is not valid XML"),
                Arguments.of("<network><name>x</name></network>", "root element is <network>, not <domain>"),
                Arguments.of("<domain><uuid>1aa0e8ba-3b38-4eac-8349-2e2cf04cbd5f</uuid></domain>", "domainXml has no <name>"),
                Arguments.of("<domain><name>x</name><uuid>not-a-uuid</uuid></domain>", "<uuid> 'not-a-uuid' is not a UUID"),
                Arguments.of(domain("<disk type='file' device='disk'><source file='vms/a.qcow2'/><target dev='vda'/></disk>"),
                        "domainXml disk vda: image path 'vms/a.qcow2' must be absolute"),
                Arguments.of(domain("<disk type='file' device='disk'><source file='/vms/../etc/shadow'/><target dev='vda'/></disk>"),
                        "domainXml disk vda: image path '/vms/../etc/shadow' must not contain '.' or '..'"),
                Arguments.of(domain("<disk type='file' device='disk'><source file='/vms/a'/></disk>"), "domainXml disk #1 has no <target dev>"),
                Arguments.of(domain("<disk type='file' device='cdrom'><target dev='../x'/></disk>"), "refused disk target '../x'"),
                Arguments.of(domain("<disk><source file='/a'/><target dev='vda'/></disk><disk><source file='/b'/><target dev='vda'/></disk>"),
                        "domainXml has two disks with target 'vda'"),
                Arguments.of("<domain><name>x</name><os><nvram>nvram/x_VARS.fd</nvram></os></domain>", "domainXml nvram: path 'nvram/x_VARS.fd' must be absolute"),
                Arguments.of("<domain><name>x</name><os><nvram type='file'><source file='/var/../x'/></nvram></os></domain>", "domainXml nvram: path '/var/../x' must not contain"),
                Arguments.of("<domain><name>x</name><os><kernel>vmlinuz</kernel></os></domain>", "domainXml kernel: path 'vmlinuz' must be absolute"),
                Arguments.of("<domain><name>x</name><os><initrd>/boot/./initrd</initrd></os></domain>", "domainXml initrd: path '/boot/./initrd' must not contain"),
                Arguments.of("<domain><name>x</name><os><dtb>a.dtb</dtb></os></domain>", "domainXml dtb: path 'a.dtb' must be absolute"));
    }

    @ParameterizedTest
    @MethodSource("badDomains")
    void refusesWithAOneLineReason(String xml, String reason) {
        assertThatThrownBy(() -> DomainDefinition.parse(xml)).isInstanceOf(BadEventException.class)
                .hasMessageContaining(reason)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void aNetworkNvramIsNoHostFileAndUuidsMayHaveNoDashes() {
        DomainDefinition d = DomainDefinition.parse("""
                <domain><name>x</name><uuid>1aa0e8ba3b384eac83492e2cf04cbd5f</uuid><os>
                <nvram type='network'><source protocol='iscsi' name='iqn.2013-07.com.example:iscsi-nopool/0'/></nvram>
                </os></domain>""");
        assertThat(d.files()).isEmpty();
        assertThat(d.disks()).isEmpty();
        assertThat(d.uuid()).isEqualTo("1aa0e8ba3b384eac83492e2cf04cbd5f");
    }

    static String domain(String disks) {
        return "<domain type='kvm'><name>t</name><devices>\n" + disks + "\n</devices></domain>";
    }
}
