package dev.coldcopy.domain;

import dev.coldcopy.event.BadEventException;
import dev.coldcopy.event.EventNames;
import dev.coldcopy.event.EventParser;
import dev.coldcopy.security.Names;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.w3c.dom.Element;

/**
 * Decides for one {@code <disk>} whether coldcopy backs it up, and if not, why: a file disk of device
 * "disk" in qcow2 or raw, writable, not shared, not encrypted. Everything else is kept in the
 * definition as skipped, with a reason a user can act on.
 */
final class DiskClassifier {
    private static final String FILE = "file";
    private static final String DISK = "disk";
    /** libvirt assumes raw for a local disk that names no format (it never probes). */
    private static final String DEFAULT_FORMAT = "raw";
    private static final Set<String> BACKED_UP_FORMATS = Set.of("qcow2", "raw");
    private static final Set<String> LOCAL_TYPES = Set.of(FILE, "block", "dir");
    /** Where each disk type keeps its source path, for the types that have one. */
    private static final Map<String, String> SOURCE_ATTRIBUTE = Map.of(FILE, "file", "block", "dev", "dir", "dir");
    private static final Map<String, String> TYPE_REASON = Map.of(
            "block", "block device",
            "volume", "storage pool volume",
            "dir", "host directory",
            "nvme", "NVMe device",
            "vhostuser", "vhost-user device");

    private DiskClassifier() {
    }

    /** {@code index} counts the disks from 1, to name one that has no target. */
    static DomainDisk classify(Element disk, int index) {
        String target = Dom.child(disk, "target").flatMap(t -> Dom.attribute(t, "dev"))
                .map(EventNames::target)
                .orElseThrow(() -> new BadEventException("domainXml disk #" + index + " has no <target dev>"));
        String device = Dom.attribute(disk, "device").orElse(DISK);
        String type = Dom.attribute(disk, "type").orElse(FILE);
        Optional<String> driverType = Dom.child(disk, "driver").flatMap(d -> Dom.attribute(d, "type"));
        String format = driverType.orElse(LOCAL_TYPES.contains(type) ? DEFAULT_FORMAT : null);
        Optional<Element> source = Dom.child(disk, "source");
        Optional<String> sourcePath = Optional.ofNullable(SOURCE_ATTRIBUTE.get(type))
                .flatMap(attr -> source.flatMap(s -> Dom.attribute(s, attr)));

        String reason = skipReason(disk, device, type, format, source, sourcePath);
        if (reason != null) {
            return new DomainDisk(target, device, type, format, sourcePath.flatMap(DiskClassifier::lenientPath).orElse(null),
                    false, reason);
        }
        Path image = EventParser.imagePath(sourcePath.orElseThrow(), "domainXml disk " + target);
        return new DomainDisk(target, device, type, format, image, true, null);
    }

    /** Null when the disk is backed up; the first reason that rules it out otherwise. */
    private static String skipReason(Element disk, String device, String type, String format, Optional<Element> source,
                                     Optional<String> sourcePath) {
        if (!DISK.equals(device)) {
            return Names.printable(device);                      // cdrom, floppy, lun: not the VM's own data
        }
        if (!FILE.equals(type)) {
            if ("network".equals(type)) {
                return source.flatMap(s -> Dom.attribute(s, "protocol"))
                        .map(p -> "network disk (" + Names.printable(p) + ")").orElse("network disk");
            }
            return TYPE_REASON.getOrDefault(type, "disk type " + Names.printable(type) + " is not supported");
        }
        if (sourcePath.isEmpty()) {
            return "no source file";
        }
        if (Dom.child(disk, "readonly").isPresent()) {
            return "read-only";
        }
        if (Dom.child(disk, "shareable").isPresent()) {
            return "shareable: may be in use by another VM";
        }
        if (!BACKED_UP_FORMATS.contains(format)) {
            return "format " + Names.printable(format) + " is not supported";
        }
        // qemu could open the image only with the key held in a libvirt secret, which coldcopy never has
        if (Dom.child(disk, "encryption").isPresent() || source.flatMap(s -> Dom.child(s, "encryption")).isPresent()) {
            return "encrypted: needs its libvirt secret";
        }
        return null;
    }

    /** A skipped disk's source is only shown, never opened: keep it when it is a path at all. */
    private static Optional<Path> lenientPath(String value) {
        try {
            return Optional.of(Path.of(value));
        } catch (InvalidPathException e) {
            return Optional.empty();
        }
    }
}
