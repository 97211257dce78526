package dev.coldcopy.libvirt;

import static dev.coldcopy.libvirt.LibvirtHost.virsh;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A UEFI domain as users run them: OVMF firmware with its own NVRAM variable store, a direct-boot kernel and
 * initrd, a qcow2 disk on a backing chain (vda), a raw disk (vdb), an empty cdrom (sda) and a VNC password.
 * There is no OS: the "kernel" is a minimal x86 boot header around a halt loop, which qemu accepts and OVMF
 * tries to boot, so the VM runs (and OVMF writes its variables) without doing anything. TCG, no network.
 */
public final class UefiVm implements AutoCloseable {
    public static final Path OVMF_CODE = Path.of("/usr/share/OVMF/OVMF_CODE_4M.fd");
    public static final Path OVMF_VARS = Path.of("/usr/share/OVMF/OVMF_VARS_4M.fd");
    public static final String VNC_PASSWORD = "vncS3crt";

    public final String name;
    public final Path top;
    public final Path base;
    public final Path raw;
    public final Path nvram;
    public final Path kernel;
    public final Path initrd;

    private UefiVm(String name, Path dir) {
        this.name = name;
        this.base = dir.resolve(name + "-base.qcow2");
        this.top = dir.resolve(name + "-top.qcow2");
        this.raw = dir.resolve(name + "-data.raw");
        this.nvram = dir.resolve(name + "_VARS.fd");
        this.kernel = dir.resolve(name + "-vmlinuz");
        this.initrd = dir.resolve(name + "-initrd.img");
    }

    public static String unavailableReason() {
        return Files.isReadable(OVMF_CODE) && Files.isReadable(OVMF_VARS) ? ""
                : "OVMF firmware is not installed (" + OVMF_CODE + "; bin/setup --test installs Debian's ovmf)";
    }

    /**
     * Creates the files in {@code dir} and defines the domain (not started); {@code rawDir} is where the raw disk
     * goes (another directory to test a disk outside the allowed roots).
     */
    public static UefiVm define(Path dir, Path rawDir, Path scratch) throws IOException {
        byte[] id = new byte[4];
        ThreadLocalRandom.current().nextBytes(id);
        UefiVm vm = new UefiVm(LibvirtHost.DOMAIN_PREFIX + "uefi-" + HexFormat.of().formatHex(id), dir);
        return vm.create(rawDir.resolve(vm.name + "-data.raw"), scratch);
    }

    private UefiVm create(Path rawImage, Path scratch) throws IOException {
        dev.coldcopy.testing.QemuImages.createQcow2(base, 64L << 20);
        dev.coldcopy.testing.QemuImages.writeRandom(base, 0, 3 << 20, new Random(1));
        dev.coldcopy.testing.QemuImages.createOverlay(top, base);
        dev.coldcopy.testing.QemuImages.writeRandom(top, 10 << 20, 1 << 20, new Random(2));
        dev.coldcopy.testing.QemuImages.createRaw(rawImage, "32M");
        dev.coldcopy.testing.QemuImages.writeRandom(rawImage, 1 << 20, 2 << 20, new Random(3));
        Files.copy(OVMF_VARS, nvram);
        Files.write(kernel, haltingKernel(1));
        byte[] initrdBytes = new byte[256 << 10];
        new Random(4).nextBytes(initrdBytes);
        Files.write(initrd, initrdBytes);
        Path xml = scratch.resolve(name + ".xml");
        Files.writeString(xml, """
                <domain type='qemu'>
                  <name>%s</name>
                  <memory unit='MiB'>128</memory>
                  <vcpu>1</vcpu>
                  <os>
                    <type arch='x86_64' machine='q35'>hvm</type>
                    <loader readonly='yes' type='pflash'>%s</loader>
                    <nvram template='%s'>%s</nvram>
                    <kernel>%s</kernel>
                    <initrd>%s</initrd>
                    <cmdline>console=ttyS0</cmdline>
                  </os>
                  <features><acpi/></features>
                  <on_poweroff>destroy</on_poweroff>
                  <on_reboot>restart</on_reboot>
                  <on_crash>destroy</on_crash>
                  <devices>
                    <disk type='file' device='disk'>
                      <driver name='qemu' type='qcow2'/>
                      <source file='%s'/>
                      <target dev='vda' bus='virtio'/>
                    </disk>
                    <disk type='file' device='disk'>
                      <driver name='qemu' type='raw'/>
                      <source file='%s'/>
                      <target dev='vdb' bus='virtio'/>
                    </disk>
                    <disk type='file' device='cdrom'>
                      <driver name='qemu' type='raw'/>
                      <target dev='sda' bus='sata'/>
                      <readonly/>
                    </disk>
                    <interface type='user'><mac address='52:54:00:c0:1d:01'/><model type='virtio'/></interface>
                    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1' passwd='%s'/>
                  </devices>
                </domain>
                """.formatted(name, OVMF_CODE, OVMF_VARS, nvram, kernel, initrd, top, rawImage, VNC_PASSWORD));
        virsh("define", xml.toString());
        return this;
    }

    /**
     * A Linux x86 boot header (boot protocol 2.06, "HdrS") with a halt loop where the real-mode setup and the
     * protected-mode kernel would start, padded with {@code seed}'s random bytes: qemu's loader and OVMF accept it.
     */
    public static byte[] haltingKernel(long seed) {
        byte[] k = new byte[64 << 10];
        new Random(seed).nextBytes(k);
        ByteBuffer b = ByteBuffer.wrap(k).order(ByteOrder.LITTLE_ENDIAN);
        int setupSectors = 4;
        b.put(0x1f1, (byte) setupSectors);
        b.putShort(0x1fe, (short) 0xAA55);
        b.put(0x200, (byte) 0xEB).put(0x201, (byte) 0x66);          // jmp over the header
        b.putInt(0x202, 0x53726448);                                  // "HdrS"
        b.putShort(0x206, (short) 0x0206);                            // boot protocol 2.06
        b.put(0x211, (byte) 0x01);                                    // loaded high
        b.putInt(0x22c, 0x37ffffff);                                  // initrd_addr_max
        byte[] halt = {(byte) 0xFA, (byte) 0xF4, (byte) 0xEB, (byte) 0xFD};   // cli; hlt; jmp back to hlt
        System.arraycopy(halt, 0, k, 0x268, halt.length);
        System.arraycopy(halt, 0, k, (setupSectors + 1) * 512, halt.length);
        return k;
    }

    public void start() {
        virsh("start", name);
    }

    public void destroy() {
        virsh("destroy", name);
    }

    public String state() {
        return state(name);
    }

    public static String state(String name) {
        return virsh("domstate", name).strip();
    }

    /**
     * A guest write through the running VM's device for {@code target} (the monitor's qemu-io), so qemu's dirty
     * bitmaps see it as they would a guest's.
     */
    public void write(String target, Path source, long offset, long length) {
        String file = source.toString();
        if (!file.matches("[A-Za-z0-9_./+-]+")) {
            throw new IllegalArgumentException("source path must be plain for the monitor's command line: " + file);
        }
        virsh("qemu-monitor-command", name, "--hmp",
                "qemu-io -d " + device(target) + " \"write -s " + file + " " + offset + " " + length + "\"");
    }

    /** The QOM path of the disk's block backend: libvirt names the virtio device of vdX virtio-disk{N}. */
    private String device(String target) {
        String image = target.equals("vda") ? top.toString() : null;
        String info = virsh("qemu-monitor-command", name, "--hmp", "info block");
        List<String> attached = new ArrayList<>();
        String[] lines = info.split("\n");
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i].strip();
            if (l.startsWith("Attached to:")) {
                attached.add(l.substring("Attached to:".length()).strip());
            }
        }
        int index = target.charAt(target.length() - 1) - 'a';
        return attached.stream().filter(a -> a.contains("virtio-disk" + index)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no virtio-disk" + index + " for " + target + " (" + image + ") in: " + info));
    }

    @Override
    public void close() {
        remove(name);
    }

    /** Destroys (when running) and undefines the domain with its NVRAM and checkpoint metadata; the images stay. */
    public static void remove(String name) {
        try {
            if (state(name).equals("running")) {
                virsh("destroy", name);
            }
        } finally {
            virsh("undefine", name, "--nvram", "--checkpoints-metadata");
        }
    }
}
