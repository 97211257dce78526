package dev.coldcopy.libvirt;

import static dev.coldcopy.libvirt.LibvirtHost.virsh;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A libvirt domain with one qcow2 disk (vda, virtio) and no OS: TCG (no KVM needed), no network, no
 * graphics. SeaBIOS finds nothing to boot and idles, which is all a test needs: qemu opens the disk, and
 * "guest writes" go in through the monitor's qemu-io. {@link #close()} destroys and undefines it.
 */
public final class TestVm implements AutoCloseable {
    public final String name;
    public final Path image;
    private String device;

    private TestVm(String name, Path image) {
        this.name = name;
        this.image = image;
    }

    /** Defines (does not start) a domain for the image; {@code scratch} holds its XML file. */
    public static TestVm define(Path image, Path scratch) throws IOException {
        byte[] id = new byte[4];
        ThreadLocalRandom.current().nextBytes(id);
        String name = LibvirtHost.DOMAIN_PREFIX + HexFormat.of().formatHex(id);
        Path xml = scratch.resolve(name + ".xml");
        Files.writeString(xml, """
                <domain type='qemu'>
                  <name>%s</name>
                  <memory unit='MiB'>64</memory>
                  <vcpu>1</vcpu>
                  <os><type arch='x86_64' machine='pc'>hvm</type></os>
                  <on_poweroff>destroy</on_poweroff>
                  <on_reboot>destroy</on_reboot>
                  <on_crash>destroy</on_crash>
                  <devices>
                    <disk type='file' device='disk'>
                      <driver name='qemu' type='qcow2'/>
                      <source file='%s'/>
                      <target dev='vda' bus='virtio'/>
                    </disk>
                  </devices>
                </domain>
                """.formatted(name, xmlAttribute(image.toString())));
        virsh("define", xml.toString());
        return new TestVm(name, image);
    }

    public void start() {
        virsh("start", name);
    }

    /** Pulls the plug (SIGTERM to qemu, which still saves its persistent bitmaps); runs the stopped hook. */
    public void destroy() {
        virsh("destroy", name);
    }

    public boolean running() {
        return virsh("domstate", name).strip().equals("running");
    }

    /**
     * A guest write: the monitor's qemu-io writes {@code length} bytes of {@code source} at
     * {@code offset} of the disk through the running VM's virtio device (so qemu's dirty bitmaps see it).
     */
    public void write(Path source, long offset, long length) {
        String file = source.toString();
        if (!file.matches("[A-Za-z0-9_./+-]+")) {
            throw new IllegalArgumentException("source path must be plain for the monitor's command line: " + file);
        }
        virsh("qemu-monitor-command", name, "--hmp",
                "qemu-io -d " + device() + " \"write -s " + file + " " + offset + " " + length + "\"");
    }

    /** The QOM path of vda's block backend, as {@code info block} names it ("Attached to: ..."). */
    private String device() {
        if (device == null) {
            String info = virsh("qemu-monitor-command", name, "--hmp", "info block");
            device = Arrays.stream(info.split("\n")).map(String::strip)
                    .filter(l -> l.startsWith("Attached to:")).map(l -> l.substring("Attached to:".length()).strip())
                    .findFirst().orElseThrow(() -> new IllegalStateException("no attached disk in: " + info));
        }
        return device;
    }

    /** A libvirt checkpoint of the running VM: a persistent bitmap of the same name in vda's qcow2. */
    public void checkpoint(String checkpoint) {
        virsh("checkpoint-create-as", name, checkpoint, "--diskspec", "vda,checkpoint=bitmap");
    }

    public List<String> checkpoints() {
        return Arrays.stream(virsh("checkpoint-list", name, "--name").split("\n")).map(String::strip)
                .filter(s -> !s.isEmpty()).toList();
    }

    @Override
    public void close() {
        remove(name);
    }

    /** Destroys (when running) and undefines the domain with its checkpoint metadata; the image stays. */
    static void remove(String name) {
        try {
            if (virsh("domstate", name).strip().equals("running")) {
                virsh("destroy", name);
            }
        } finally {
            virsh("undefine", name, "--nvram", "--checkpoints-metadata");   // --nvram: a UEFI leftover too
        }
    }

    private static String xmlAttribute(String value) {
        return value.replace("&", "&amp;").replace("<", "&lt;").replace("'", "&apos;").replace("\"", "&quot;");
    }
}
