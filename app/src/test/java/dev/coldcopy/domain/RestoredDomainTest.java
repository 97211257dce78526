package dev.coldcopy.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.domain.RestoredDomain.RestoredDisk;
import dev.coldcopy.restore.RestoreFormat;
import dev.coldcopy.security.NameRefusedException;
import dev.coldcopy.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;

class RestoredDomainTest {
    private static final Path DIR = Path.of("/restore/web");
    private static final String MAC = "52:54:00:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}";

    @TempDir
    Path tmp;

    private static Map<String, RestoredDisk> uefiDisks() {
        return Map.of("vda", new RestoredDisk(DIR.resolve("vda.qcow2"), RestoreFormat.QCOW2),
                "vdb", new RestoredDisk(DIR.resolve("vdb.img"), RestoreFormat.RAW));
    }

    @Test
    void pointsTheHooksDomainAtTheRestoredFiles() throws Exception {
        String stored = DomainSamples.read("uefi-live.xml");
        assertThat(stored).contains("<domain type='qemu' id='1'>").contains("<backingStore/>").contains("index='3'");
        String xml = RestoredDomain.xml(stored, uefiDisks(), Map.of(HostFileRef.NVRAM, DIR.resolve("nvram.fd")),
                Optional.empty());

        DomainDefinition restored = DomainDefinition.parse(xml);
        DomainDefinition original = DomainDefinition.parse(stored);
        assertThat(restored.backedUp()).containsExactly(
                new DomainDisk("vda", "disk", "file", "qcow2", DIR.resolve("vda.qcow2"), true, null),
                new DomainDisk("vdb", "disk", "file", "raw", DIR.resolve("vdb.img"), true, null));
        assertThat(restored.skipped()).isEqualTo(original.skipped());     // the cdrom keeps its ISO
        assertThat(restored.files()).containsExactly(new HostFileRef(HostFileRef.NVRAM, DIR.resolve("nvram.fd")));
        assertThat(restored.name()).isEqualTo(original.name());
        assertThat(restored.uuid()).isEqualTo(original.uuid());

        Element root = HardenedXml.parse(xml).getDocumentElement();
        assertThat(root.hasAttribute("id")).isFalse();
        assertThat(root.getAttribute("type")).isEqualTo("qemu");
        assertThat(xml).contains("<nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>/restore/web/nvram.fd</nvram>")
                .contains("<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>")
                .contains("<mac address='52:54:00:12:34:56'/>")
                .contains("<driver name='qemu' type='qcow2' discard='unmap'/>")
                .contains("<source file='/restore/web/vda.qcow2'/>")
                .contains("<source file='/tmp/domxml/install.iso' index='1'/>\n      <backingStore/>")   // skipped: as it was
                .doesNotContain("/tmp/domxml/web.qcow2", "/tmp/domxml/data.img", "alias name='virtio-disk0'/>\n      <backingStore");
        assertThat(xml.split("<backingStore/>", -1)).hasSize(2);
        assertThat(xml.strip()).doesNotContainPattern("\n[ \t]*\n");       // no blank line where an element went
        assertValid(xml);
    }

    @Test
    void changesNothingElse() {
        String stored = DomainSamples.read("uefi.xml");
        String xml = RestoredDomain.xml(stored,
                Map.of("vda", new RestoredDisk(DIR.resolve("vda.qcow2"), RestoreFormat.QCOW2),
                        "vdb", new RestoredDisk(DIR.resolve("vdb & more.qcow2"), RestoreFormat.QCOW2)),
                Map.of(HostFileRef.NVRAM, DIR.resolve("<nvram>.fd")), Optional.empty());
        assertThat(xml).isEqualTo(stored
                .replace("<source file='/tmp/domxml/web.qcow2'/>", "<source file='/restore/web/vda.qcow2'/>")
                .replace("<driver name='qemu' type='raw' cache='none'/>\n      <source file='/tmp/domxml/data.img'/>",
                        "<driver name='qemu' type='qcow2' cache='none'/>\n      <source file='/restore/web/vdb &amp; more.qcow2'/>")
                .replace("/tmp/domxml/nvram/coldcopy-test-uefi_VARS.fd", "/restore/web/&lt;nvram&gt;.fd"));
        assertThat(DomainDefinition.parse(xml).backedUp()).extracting(DomainDisk::source)
                .containsExactly(DIR.resolve("vda.qcow2"), DIR.resolve("vdb & more.qcow2"));
    }

    @Test
    void aNewNameGetsANewUuidAndNewMacs() throws Exception {
        String stored = """
                <domain type='kvm'>
                  <name>web</name>
                  <uuid>1aa0e8ba-3b38-4eac-8349-2e2cf04cbd5f</uuid>
                  <memory>65536</memory>
                  <sysinfo type='smbios'><system><entry name='manufacturer'>x</entry><entry name='uuid'>1aa0e8ba-3b38-4eac-8349-2e2cf04cbd5f</entry></system></sysinfo>
                  <os><type arch='x86_64'>hvm</type><smbios mode='sysinfo'/></os>
                  <devices>
                    <disk type='file' device='disk'><source file='/vms/web.img'/><target dev='vda' bus='virtio'/></disk>
                    <interface type='network'><mac address='52:54:00:aa:bb:cc'/><source network='default'/></interface>
                    <interface type='network'><mac address='52:54:00:aa:bb:cd'/><source network='default'/></interface>
                    <interface type='network'><source network='default'/></interface>
                  </devices>
                </domain>
                """;
        String xml = RestoredDomain.xml(stored, Map.of("vda", new RestoredDisk(DIR.resolve("vda.qcow2"), RestoreFormat.QCOW2)),
                Map.of(), Optional.of("web-restored"));
        DomainDefinition restored = DomainDefinition.parse(xml);
        assertThat(restored.name()).isEqualTo("web-restored");
        assertThat(restored.uuid()).isNotEqualTo("1aa0e8ba-3b38-4eac-8349-2e2cf04cbd5f")
                .matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
        assertThat(xml).contains("<entry name='uuid'>" + restored.uuid() + "</entry>");
        // a disk that named no format gets a driver saying what the restored image is
        assertThat(xml).contains("<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/restore/web/vda.qcow2'/>");
        assertThat(restored.backedUp()).singleElement().satisfies(d -> assertThat(d.format()).isEqualTo("qcow2"));

        Element devices = Dom.child(HardenedXml.parse(xml).getDocumentElement(), "devices").orElseThrow();
        List<Element> nics = Dom.children(devices, "interface");
        List<String> macs = nics.stream().flatMap(n -> Dom.child(n, "mac").stream()).map(m -> m.getAttribute("address")).toList();
        assertThat(macs).hasSize(2).doesNotHaveDuplicates().allMatch(m -> m.matches(MAC))
                .doesNotContain("52:54:00:aa:bb:cc", "52:54:00:aa:bb:cd");
        assertThat(Dom.child(nics.get(2), "mac")).isEmpty();                // libvirt generates it on define
        assertValid(xml);

        String again = RestoredDomain.xml(stored, Map.of("vda", new RestoredDisk(DIR.resolve("vda.qcow2"), RestoreFormat.QCOW2)),
                Map.of(), Optional.of("web-restored"));
        assertThat(DomainDefinition.parse(again).uuid()).isNotEqualTo(restored.uuid());
    }

    @Test
    void directKernelBootAndTheNvramSourceFormTakeTheRestoredPaths() throws Exception {
        String kernel = RestoredDomain.xml(DomainSamples.read("kernel-boot.xml"),
                Map.of("vda", new RestoredDisk(DIR.resolve("vda.qcow2"), RestoreFormat.QCOW2)),
                Map.of(HostFileRef.KERNEL, DIR.resolve("vmlinuz"), HostFileRef.INITRD, DIR.resolve("initrd.img"),
                        HostFileRef.DTB, DIR.resolve("board.dtb")), Optional.of("kernel-copy"));
        assertThat(DomainDefinition.parse(kernel).files()).containsExactly(
                new HostFileRef(HostFileRef.KERNEL, DIR.resolve("vmlinuz")),
                new HostFileRef(HostFileRef.INITRD, DIR.resolve("initrd.img")),
                new HostFileRef(HostFileRef.DTB, DIR.resolve("board.dtb")));
        assertThat(kernel).contains("<cmdline>console=ttyS0 root=/dev/vda</cmdline>")
                .contains("<source protocol='rbd' name='pool/image'>");
        assertValid(kernel);

        String nvram = RestoredDomain.xml(DomainSamples.read("nvram-source-inactive.xml"),
                Map.of("vda", new RestoredDisk(DIR.resolve("vda.qcow2"), RestoreFormat.QCOW2)),
                Map.of(HostFileRef.NVRAM, DIR.resolve("VARS.fd")), Optional.empty());
        assertThat(nvram).contains("<nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd' type='file'>\n"
                + "      <source file='/restore/web/VARS.fd'/>\n    </nvram>")
                .doesNotContain("base.qcow2", "<backingStore");
        assertValid(nvram);
    }

    @Test
    void firmwareEfiWithoutAnNvramElementUsesLibvirtsDefaultFileAndTheRestoreNamesItsOwn() throws Exception {
        String stored = """
                <domain type='qemu'>
                  <name>efi-vm</name>
                  <memory unit='MiB'>128</memory>
                  <os firmware='efi'>
                    <type arch='x86_64' machine='q35'>hvm</type>
                    <boot dev='hd'/>
                  </os>
                  <devices>
                    <disk type='file' device='disk'>
                      <driver name='qemu' type='qcow2'/>
                      <source file='/var/lib/libvirt/images/efi-vm.qcow2'/>
                      <target dev='vda' bus='virtio'/>
                    </disk>
                  </devices>
                </domain>
                """;
        assertThat(DomainDefinition.parse(stored).files())
                .containsExactly(new HostFileRef(HostFileRef.NVRAM, Path.of("/var/lib/libvirt/qemu/nvram/efi-vm_VARS.fd")));
        String xml = RestoredDomain.xml(stored, Map.of("vda", new RestoredDisk(DIR.resolve("vda.qcow2"), RestoreFormat.QCOW2)),
                Map.of(HostFileRef.NVRAM, DIR.resolve("copy_VARS.fd")), Optional.of("copy"));
        assertThat(DomainDefinition.parse(xml).files()).containsExactly(new HostFileRef(HostFileRef.NVRAM, DIR.resolve("copy_VARS.fd")));
        assertThat(xml).contains("<os firmware='efi'>\n    <nvram>/restore/web/copy_VARS.fd</nvram>\n    <type arch='x86_64'");
        assertValid(xml);
    }

    @Test
    void refusesMapsThatDoNotMatchTheDomain() {
        String stored = DomainSamples.read("uefi-hook-stdin.xml");
        Map<String, Path> nvram = Map.of(HostFileRef.NVRAM, DIR.resolve("nvram.fd"));
        RestoredDisk image = new RestoredDisk(DIR.resolve("x.qcow2"), RestoreFormat.QCOW2);
        assertRefused(() -> RestoredDomain.xml(stored, Map.of("vda", image), nvram, Optional.empty()),
                "backed-up disk(s) vdb have no restored image: the VM would use the original's");
        assertRefused(() -> RestoredDomain.xml(stored, Map.of("vda", image, "vdb", image, "sda", image), nvram, Optional.empty()),
                "disk 'sda' was not backed up (cdrom): it has no restored image");
        assertRefused(() -> RestoredDomain.xml(stored, Map.of("vda", image, "vdb", image, "vdz", image), nvram, Optional.empty()),
                "the domain has no disk 'vdz'");
        assertRefused(() -> RestoredDomain.xml(stored, uefiDisks(), Map.of(), Optional.empty()),
                "the domain's nvram file(s) have no restored path");
        assertRefused(() -> RestoredDomain.xml(stored, uefiDisks(), Map.of("nvram", DIR, "kernel", DIR), Optional.empty()),
                "the domain has no kernel file");
        assertRefused(() -> RestoredDomain.xml(stored, uefiDisks(), Map.of("nvram", DIR, "loader", DIR), Optional.empty()),
                "unknown host file role 'loader' (one of nvram, kernel, initrd, dtb)");
        assertRefused(() -> RestoredDomain.xml(stored, uefiDisks(), Map.of("nvram", Path.of("nvram.fd")), Optional.empty()),
                "restored nvram must be an absolute path without '.' or '..': nvram.fd");
        assertRefused(() -> RestoredDomain.xml(stored, Map.of("vda", new RestoredDisk(Path.of("/r/../vda"), RestoreFormat.RAW),
                "vdb", image), nvram, Optional.empty()), "restored image of disk 'vda' must be an absolute path");
        assertThatThrownBy(() -> RestoredDomain.xml(stored, uefiDisks(), nvram, Optional.of("a b")))
                .isInstanceOf(NameRefusedException.class).hasMessageContaining("refused VM name 'a b'");
    }

    private static void assertRefused(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String reason) {
        assertThatThrownBy(call).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(reason)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    /** libvirt's own schema check, where libvirt-clients and xmllint (which it runs) are installed. */
    private void assertValid(String xml) throws Exception {
        if (!Tools.available("virt-xml-validate") || !Tools.available("xmllint")) {
            return;
        }
        Path file = Files.writeString(Files.createTempFile(tmp, "domain", ".xml"), xml);
        Tools.Result result = Tools.result(Duration.ofSeconds(30), List.of("virt-xml-validate", file.toString(), "domain"));
        assertThat(result.exitCode()).as("virt-xml-validate: %s%s", result.stdout(), result.stderr()).isZero();
    }
}
