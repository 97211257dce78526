package dev.coldcopy.domain;

import dev.coldcopy.domain.XmlMarkup.Element;
import dev.coldcopy.restore.RestoreFormat;
import dev.coldcopy.security.Names;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * The domain XML of a restored VM: the backed-up domain, pointed at the restored images and host files.
 * With a new name it is a second VM beside the original, so it also gets its own UUID and MAC addresses
 * (two guests with one MAC on a network break each other's traffic).
 *
 * <p>Disks the backup skipped are left as they were: a cdrom's ISO or a network disk is still where it
 * was. Every backed-up disk and host file must be given its restored path: one left pointing at the
 * original would have two VMs write one image.
 */
public final class RestoredDomain {
    /** QEMU's prefix (locally administered, unicast): what libvirt itself generates. */
    private static final String MAC_PREFIX = "52:54:00";
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Where a backed-up disk was restored to, in which format. */
    public record RestoredDisk(Path image, RestoreFormat format) {
        public RestoredDisk {
            Objects.requireNonNull(image, "image");
            Objects.requireNonNull(format, "format");
        }
    }

    private RestoredDomain() {
    }

    /**
     * @param storedXml the domain XML the backup recorded
     * @param disks     target → restored image, for every backed-up disk
     * @param files     role ({@link HostFileRef#ROLES}) → restored path, for every host file of the domain
     * @param newName   the restored VM's name; empty keeps the original's name, UUID and MACs (a restore
     *                  that replaces the original)
     * @return the new domain XML
     * @throws IllegalArgumentException (one-line reason) when the maps do not match the domain, a path is
     *                                  not absolute and normalised, or the name is refused
     */
    public static String xml(String storedXml, Map<String, RestoredDisk> disks, Map<String, Path> files,
                             Optional<String> newName) {
        DomainDefinition domain = DomainDefinition.parse(storedXml);
        checkDisks(domain, disks);
        checkFiles(domain, files);
        newName.ifPresent(Names::vmName);

        TextEdits edits = new TextEdits(storedXml);
        Element root = XmlMarkup.root(storedXml);
        root.attribute("id").ifPresent(edits::remove);           // a running domain's number: meaningless when defined
        root.child("devices").ifPresent(devices -> {
            for (Element disk : devices.children("disk")) {
                String dev = disk.child("target").flatMap(t -> t.attribute("dev")).orElseThrow().value();
                RestoredDisk restored = disks.get(dev);
                if (restored != null) {
                    pointAt(edits, disk, restored);
                }
            }
        });
        root.child("os").ifPresent(os -> setHostFiles(edits, os, files));
        newName.ifPresent(name -> rename(edits, root, name));
        String xml = edits.apply();
        DomainDefinition.parse(xml);                             // well-formed still, and a domain
        return xml;
    }

    private static void checkDisks(DomainDefinition domain, Map<String, RestoredDisk> disks) {
        for (String target : disks.keySet()) {
            DomainDisk disk = domain.disks().stream().filter(d -> d.target().equals(target)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("the domain has no disk '" + Names.printable(target) + "'"));
            if (!disk.backedUp()) {
                throw new IllegalArgumentException("disk '" + target + "' was not backed up (" + disk.skipReason()
                        + "): it has no restored image");
            }
            requirePath(disks.get(target).image(), "restored image of disk '" + target + "'");
        }
        List<String> missing = domain.backedUp().stream().map(DomainDisk::target).filter(t -> !disks.containsKey(t)).toList();
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("backed-up disk(s) " + String.join(", ", missing)
                    + " have no restored image: the VM would use the original's");
        }
    }

    private static void checkFiles(DomainDefinition domain, Map<String, Path> files) {
        for (String role : files.keySet()) {
            if (!HostFileRef.ROLES.contains(role)) {
                throw new IllegalArgumentException("unknown host file role '" + Names.printable(role) + "' (one of "
                        + String.join(", ", HostFileRef.ROLES) + ")");
            }
            if (domain.file(role).isEmpty()) {
                throw new IllegalArgumentException("the domain has no " + role + " file");
            }
            requirePath(files.get(role), "restored " + role);
        }
        String missing = domain.files().stream().map(HostFileRef::role).filter(r -> !files.containsKey(r))
                .collect(Collectors.joining(", "));
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("the domain's " + missing + " file(s) have no restored path");
        }
    }

    private static void requirePath(Path path, String what) {
        if (path == null || !path.isAbsolute() || !path.normalize().equals(path)) {
            throw new IllegalArgumentException(what + " must be an absolute path without '.' or '..': " + path);
        }
    }

    private static void pointAt(TextEdits edits, Element disk, RestoredDisk restored) {
        Element source = disk.child("source").orElseThrow();     // a backed-up disk always has one
        edits.setAttribute(source, "file", restored.image().toString());
        source.attribute("index").ifPresent(edits::remove);      // names a layer of the original's live chain
        String format = restored.format().qemuName();
        disk.child("driver").ifPresentOrElse(driver -> edits.setAttribute(driver, "type", format),
                () -> edits.insertBefore(source, "<driver name='qemu' type='" + format + "'/>"));
        // the restored image is standalone; a recorded chain would name the original's backing files
        disk.children("backingStore").forEach(edits::remove);
    }

    private static void setHostFiles(TextEdits edits, Element os, Map<String, Path> files) {
        files.forEach((role, path) -> {
            if (os.child(role).isEmpty() && role.equals(HostFileRef.NVRAM) && !os.children.isEmpty()) {
                // firmware='efi' leaves the NVRAM's place to libvirt's default; the restored one lives in DIR
                edits.insertBefore(os.children.get(0), "<nvram>" + TextEdits.escapeText(path.toString()) + "</nvram>");
                return;
            }
            Element e = os.child(role).orElseThrow();
            if (role.equals(HostFileRef.NVRAM) && e.attribute("type").isPresent()) {
                edits.setAttribute(e.child("source").orElseThrow(), "file", path.toString());
            } else {
                edits.setText(e, path.toString());                // the nvram's template attribute stays
            }
        });
    }

    private static void rename(TextEdits edits, Element root, String name) {
        edits.setText(root.child("name").orElseThrow(), name);
        String uuid = UUID.randomUUID().toString();
        root.child("uuid").ifPresent(u -> edits.setText(u, uuid));
        // libvirt refuses a domain whose SMBIOS system UUID differs from its own (and takes it as its own
        // when the domain names none)
        root.child("sysinfo").flatMap(s -> s.child("system")).ifPresent(system -> {
            for (Element entry : system.children("entry")) {
                if (entry.attribute("name").map(n -> n.value().equals("uuid")).orElse(false)) {
                    edits.setText(entry, uuid);
                }
            }
        });
        Set<String> used = new HashSet<>();
        root.child("devices").ifPresent(devices -> {
            for (Element nic : devices.children("interface")) {
                // no <mac>: libvirt generates one on define, unique already
                nic.child("mac").ifPresent(mac -> edits.setAttribute(mac, "address", newMac(used)));
            }
        });
    }

    private static String newMac(Set<String> used) {
        byte[] tail = new byte[3];
        String mac;
        do {
            RANDOM.nextBytes(tail);
            mac = MAC_PREFIX + ":" + HexFormat.ofDelimiter(":").formatHex(tail);
        } while (!used.add(mac));
        return mac;
    }
}
