package dev.coldcopy.libvirt;

import static dev.coldcopy.libvirt.LibvirtHost.virsh;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.coldcopy.cli.CliRun;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.vm.VmBackup;
import dev.coldcopy.repository.vm.VmBackups;
import dev.coldcopy.service.ServiceHarness;
import dev.coldcopy.testing.QemuImages;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole VM, as users run them (UEFI with its NVRAM, a direct-boot kernel and initrd, a qcow2 disk on a
 * backing chain, a raw disk, an empty cdrom), backed up by the service from the libvirt hook's events and
 * restored by {@code coldcopy restore --to DIR --name NEW --define} into a new VM that starts. Each backup
 * restores to the VM as it was when it stopped: disks {@code qemu-img compare} identical, NVRAM and boot files
 * byte for byte.
 *
 * <p>Needs root, libvirt and OVMF (bin/setup --test installs them); skipped elsewhere, except in CI.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class WholeVmTest {
    private static final long MIB = 1 << 20;
    private static final Duration WAIT = Duration.ofSeconds(120);

    private static LibvirtHost host;

    @TempDir
    Path dir;
    ServiceHarness service;
    UefiVm vm;
    final List<String> copies = new ArrayList<>();

    @BeforeAll
    static void libvirtUp() {
        host = LibvirtHost.upOrSkip(UefiVm.unavailableReason());
    }

    @AfterAll
    static void libvirtDown() {
        if (host != null) {
            host.close();
        }
    }

    @BeforeEach
    void startService() throws Exception {
        service = new ServiceHarness(dir.resolve("home"));
        Files.createDirectories(service.spool());
        host.spool(service.spool());
        service.start();
    }

    @AfterEach
    void cleanUp() {
        try {
            for (String copy : copies) {
                UefiVm.remove(copy);
            }
            if (vm != null) {
                vm.close();
            }
        } finally {
            service.close();
        }
    }

    /** What the VM was when it stopped: both disks' content, the NVRAM and the boot files. */
    record State(Path vda, Path vdb, byte[] nvram, byte[] kernel, byte[] initrd) {
    }

    State state(String label) throws IOException {
        return new State(QemuImages.convertToRaw(vm.top, dir.resolve(label + "-vda.raw")),
                Files.copy(vm.raw, dir.resolve(label + "-vdb.raw")),
                Files.readAllBytes(vm.nvram), Files.readAllBytes(vm.kernel), Files.readAllBytes(vm.initrd));
    }

    @Test
    void hookBackupsOfAUefiVmRestoreAsNewVmsThatStart() throws Exception {
        vm = UefiVm.define(service.images, service.images, dir);
        vm.start();
        Thread.sleep(3000);                       // OVMF runs and writes its variables
        vm.destroy();
        JsonNode first = awaitVmResult(1);
        assertThat(first.get("outcome").asText()).as("%s", first).isEqualTo("ok");
        assertThat(diskOutcomes(first)).containsExactly("vda:ok:full", "vdb:ok:full", "sda:skipped:null");
        assertThat(first.toString()).contains("cdrom");
        assertThat(first.get("files").toString()).contains("domain-xml", "nvram", "kernel", "initrd");
        State atFirst = state("first");

        // change every part: the guest writes to both disks, the NVRAM is written by the firmware, the kernel is upgraded
        vm.start();
        guestWrite("vda", 20 * MIB, MIB, 11);
        guestWrite("vdb", 8 * MIB, MIB, 12);
        Files.write(vm.kernel, UefiVm.haltingKernel(2));
        Thread.sleep(2000);
        vm.destroy();
        JsonNode second = awaitVmResult(2);
        assertThat(second.get("outcome").asText()).as("%s", second).isEqualTo("ok");
        // vda is incremental when qemu saved its bitmaps at the stop; a qemu that libvirt had to kill (TCG under
        // load: SIGKILL after its grace period) leaves them "in-use", and coldcopy then rightly reads it whole
        String vdaKind = diskResult(second, "vda").get("kind").asText();
        if (!vdaKind.equals("incremental")) {
            assertThat(diskResult(second, "vda").get("reason").asText()).contains("not saved cleanly");
        }
        assertThat(diskOutcomes(second)).containsExactly("vda:ok:" + vdaKind, "vdb:ok:full", "sda:skipped:null");
        State atSecond = state("second");
        assertThat(atSecond.kernel()).isNotEqualTo(atFirst.kernel());
        assertThat(QemuImages.sha256(atSecond.vda())).isNotEqualTo(QemuImages.sha256(atFirst.vda()));

        try (Repository repository = service.openRepository()) {
            List<VmBackup> backups = new VmBackups(repository).list(Optional.of(vm.name));
            assertThat(backups).extracting(b -> b.id().toString())
                    .containsExactly(first.get("vmBackup").asText(), second.get("vmBackup").asText());
            String storedXml = new String(new VmBackups(repository).readFile(backups.get(0).domainXml().orElseThrow()), StandardCharsets.UTF_8);
            assertThat(storedXml).as("no VNC password in an unencrypted repository").doesNotContain(UefiVm.VNC_PASSWORD)
                    .contains(vm.name);
        }
        // the raw disk's second backup stored only what changed
        assertThat(diskResult(second, "vdb").get("bytesStored").asLong()).isLessThan(2 * MIB);

        assertRestoresAsNewVm(first.get("vmBackup").asText(), atFirst, "first");
        assertRestoresAsNewVm("latest", atSecond, "second");
        assertThat(service.deadLetters()).filteredOn(d -> d.toString().contains(vm.name + "\"")).isEmpty();
    }

    @Test
    void backupDomainRefusesARunningDomainAndADomainWithADiskOutsideTheRootsBeforeTouchingAnything() throws Exception {
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
        vm = UefiVm.define(service.images, elsewhere, dir);
        String repo = "file:" + dir.resolve("cli-repo");
        vm.start();
        CliRun running = backupDomain(repo);
        assertThat(running.exit()).isEqualTo(1);
        assertThat(running.err().strip()).isEqualTo("coldcopy backup: domain " + vm.name
                + " is running: coldcopy backs up stopped VMs only (shut it down first); nothing was touched");
        vm.destroy();
        awaitDeadLetter();                           // the hook's event: refused whole by the service as well

        CliRun outside = backupDomain(repo);
        assertThat(outside.exit()).isEqualTo(1);
        assertThat(outside.err()).contains("refused whole").contains("disk vdb").contains("outside the allowed roots");
        assertThat(QemuImages.bitmaps(vm.top)).as("no checkpoint added to vda").isEmpty();
        assertThat(Files.exists(dir.resolve("cli-repo").resolve("snapshots"))
                && Files.list(dir.resolve("cli-repo").resolve("snapshots")).findAny().isPresent()).as("no snapshot").isFalse();

        // allowed: every disk and file is backed up, and the command prints the disks and the VM
        CliRun allowed = backupDomain(repo, "--allow-root", elsewhere.toString());
        assertThat(allowed.exit()).as(allowed.err()).isZero();
        assertThat(allowed.out()).containsPattern(vm.name + "/vda \\S+ full ").containsPattern(vm.name + "/vdb \\S+ full raw image")
                .containsPattern(vm.name + " \\S+ vm vda vdb; skipped sda \\(cdrom[^)]*\\); files [a-z -]*nvram kernel initrd");
    }

    @Test
    void aFirmwareEfiDomainsNvramAtLibvirtsDefaultPlaceIsBackedUpAndRestored() throws Exception {
        String name = LibvirtHost.DOMAIN_PREFIX + "efi-" + Long.toHexString(System.nanoTime() & 0xffffff);
        Path disk = QemuImages.createQcow2(service.images.resolve(name + ".qcow2"), 16 * MIB);
        Path xml = Files.writeString(dir.resolve(name + ".xml"), """
                <domain type='qemu'>
                  <name>%s</name>
                  <memory unit='MiB'>128</memory>
                  <os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type></os>
                  <features><acpi/></features>
                  <devices>
                    <disk type='file' device='disk'>
                      <driver name='qemu' type='qcow2'/>
                      <source file='%s'/>
                      <target dev='vda' bus='virtio'/>
                    </disk>
                  </devices>
                </domain>
                """.formatted(name, disk));
        virsh("define", xml.toString());
        copies.add(name);
        assertThat(virsh("dumpxml", "--inactive", name)).as("libvirt keeps the NVRAM's place to itself").doesNotContain("<nvram");
        virsh("start", name);                         // libvirt creates the NVRAM from the template, OVMF writes it
        Thread.sleep(3000);
        virsh("destroy", name);
        Path nvram = Path.of("/var/lib/libvirt/qemu/nvram", name + "_VARS.fd");
        assertThat(nvram).exists();
        byte[] variables = Files.readAllBytes(nvram);

        String repo = "file:" + dir.resolve("efi-repo");
        CliRun backup = CliRun.coldcopy("backup", "--repo", repo, "--domain", name, "-Dcoldcopy.home=" + dir.resolve("cli-home"),
                "-Dcoldcopy.repository.fsync=false", "--allow-root", service.images.toString());
        assertThat(backup.exit()).as(backup.err()).isZero();
        assertThat(backup.out()).containsPattern(name + " \\S+ vm vda; files domain-xml nvram");

        Path to = dir.resolve("efi-restored");
        String copy = name + "-copy";
        copies.add(copy);
        CliRun restore = CliRun.coldcopy("restore", "--repo", repo, "--vm", name, "--to", to.toString(), "--name", copy, "--define");
        assertThat(restore.exit()).as(restore.err()).isZero();
        assertThat(Files.readAllBytes(to.resolve(copy + "_VARS.fd"))).isEqualTo(variables);
        assertThat(virsh("dumpxml", "--inactive", copy)).contains("<nvram>" + to.resolve(copy + "_VARS.fd") + "</nvram>");
        virsh("start", copy);
        Thread.sleep(2000);
        assertThat(UefiVm.state(copy)).isEqualTo("running");
        virsh("destroy", copy);
    }

    private CliRun backupDomain(String repo, String... extra) {
        List<String> args = new ArrayList<>(List.of("backup", "--repo", repo, "--domain", vm.name,
                "-Dcoldcopy.home=" + dir.resolve("cli-home"), "-Dcoldcopy.retry.max=0", "-Dcoldcopy.repository.fsync=false",
                "--allow-root", service.images.toString()));
        args.addAll(List.of(extra));
        return CliRun.coldcopy(args.toArray(String[]::new));
    }

    /** restore --to DIR --name NEW --define: the disks, NVRAM and boot files equal the state, and the VM starts. */
    private void assertRestoresAsNewVm(String snapshot, State expected, String label) throws Exception {
        String copy = vm.name + "-" + label;
        Path to = dir.resolve("restored-" + label);
        copies.add(copy);
        CliRun restore = CliRun.coldcopy("restore", "--repo", service.home.resolve("repository").toUri().toString(),
                "--vm", vm.name, "--snapshot", snapshot, "--to", to.toString(), "--name", copy, "--define");
        assertThat(restore.exit()).as(restore.err()).isZero();
        assertThat(restore.out()).contains(copy + " defined on qemu:///system");

        assertThat(QemuImages.identical(to.resolve("vda.qcow2"), expected.vda())).as("vda of %s", label).isTrue();
        assertThat(QemuImages.identical(to.resolve("vdb.raw"), expected.vdb())).as("vdb of %s", label).isTrue();
        assertThat(Files.readAllBytes(to.resolve(copy + "_VARS.fd"))).as("NVRAM of %s", label).isEqualTo(expected.nvram());
        assertThat(Files.readAllBytes(to.resolve("kernel"))).isEqualTo(expected.kernel());
        assertThat(Files.readAllBytes(to.resolve("initrd"))).isEqualTo(expected.initrd());

        String defined = virsh("dumpxml", "--inactive", copy);
        assertThat(defined).contains(to.resolve("vda.qcow2").toString(), to.resolve("vdb.raw").toString(),
                to.resolve(copy + "_VARS.fd").toString(), to.resolve("kernel").toString())
                .doesNotContain(virsh("domuuid", vm.name).strip()).doesNotContain("52:54:00:c0:1d:01")
                .doesNotContain(vm.top.toString()).doesNotContain(vm.base.toString());

        virsh("start", copy);
        Thread.sleep(3000);
        assertThat(UefiVm.state(copy)).as("the restored VM runs").isEqualTo("running");
        virsh("destroy", copy);
    }

    private void guestWrite(String target, long offset, long length, long seed) throws IOException {
        byte[] data = new byte[(int) length];
        new Random(seed).nextBytes(data);
        Path source = Files.write(dir.resolve("guest-" + target + "-" + seed + ".bin"), data);
        vm.write(target, source, offset, length);
    }

    private static List<String> diskOutcomes(JsonNode vmResult) {
        List<String> out = new ArrayList<>();
        vmResult.get("disks").forEach(d -> out.add(d.get("disk").asText() + ":" + d.get("outcome").asText() + ":"
                + (d.has("kind") ? d.get("kind").asText() : "null")));
        return out;
    }

    private JsonNode diskResult(JsonNode vmResult, String disk) throws IOException {
        return service.results().stream().filter(r -> r.get("eventId").asText().equals(vmResult.get("eventId").asText())
                && r.get("disk").asText().equals(disk)).findFirst().orElseThrow();
    }

    /** The n-th VM result (1-based) for this test's VM; libvirtd may be shared, so only ours count. */
    private JsonNode awaitVmResult(int n) throws Exception {
        return service.awaitResultOf(vm.name, n, service::vmResults, WAIT);
    }

    private void awaitDeadLetter() throws Exception {
        Instant end = Instant.now().plus(WAIT);
        while (Instant.now().isBefore(end)) {
            if (service.deadLetters().stream().anyMatch(d -> d.toString().contains("refused whole"))) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no dead letter for " + vm.name + ": " + service.deadLetters());
    }
}
