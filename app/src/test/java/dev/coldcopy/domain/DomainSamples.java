package dev.coldcopy.domain;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Domain XMLs written by a real libvirt (9.0, Debian 12) for domains defined on a test host and
 * undefined again (src/test/resources/domain):
 * <ul>
 * <li>{@code uefi-as-written.xml}: what was defined: UEFI (loader + nvram), qcow2 + raw + cdrom, a vnc
 * password, user-mode network;
 * <li>{@code uefi.xml} / {@code uefi-security-info.xml}: its {@code virsh dumpxml}, without and with
 * {@code --security-info};
 * <li>{@code uefi-live.xml}: dumpxml while it ran; {@code uefi-hook-stdin.xml}: what libvirt gave the
 * qemu hook on {@code stopped end};
 * <li>{@code kernel-boot.xml} / {@code kernel-boot-security-info.xml}: direct kernel boot (kernel,
 * initrd, dtb), raw, rbd, https with a cookie, block, vmdk, shareable, empty cdrom, floppy, spice and
 * vnc passwords;
 * <li>{@code nvram-source-inactive.xml}: libvirt 8.5's {@code <nvram type='file'><source file>}, a
 * qcow2 with a recorded backing chain, a pool volume, a vvfat directory, a SCSI lun.
 * </ul>
 */
public final class DomainSamples {
    private DomainSamples() {
    }

    public static String read(String name) {
        try (InputStream in = DomainSamples.class.getResourceAsStream("/domain/" + name)) {
            if (in == null) {
                throw new IllegalArgumentException("no sample domain/" + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
