package dev.coldcopy.domain;

import dev.coldcopy.event.BadEventException;
import dev.coldcopy.security.Names;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.w3c.dom.Element;

/**
 * A libvirt domain as a backup sees it: what it is called, every disk (backed up or skipped, with the
 * reason) and the host files it needs.
 *
 * @param name  the domain's {@code <name>}
 * @param uuid  its {@code <uuid>}, null when the XML has none (libvirt then generates one on define)
 * @param disks every {@code <devices><disk>}, in document order: none is dropped silently
 * @param files the host files of {@code <os>} (nvram, kernel, initrd, dtb)
 * @param xml   the document exactly as given, secrets included: strip it ({@link DomainSecrets}) before
 *              storing it anywhere
 */
public record DomainDefinition(String name, String uuid, List<DomainDisk> disks, List<HostFileRef> files, String xml) {
    /** 32 hex digits; libvirt accepts dashes anywhere between them. */
    private static final Pattern UUID = Pattern.compile("(?:-*[0-9a-fA-F]){32}-*");

    public DomainDefinition {
        disks = List.copyOf(disks);
        files = List.copyOf(files);
    }

    /** Reads a domain XML; malformed or refused content is a {@link BadEventException} with a one-line reason. */
    public static DomainDefinition parse(String xml) {
        Element root = HardenedXml.parse(xml).getDocumentElement();
        if (!"domain".equals(root.getTagName())) {
            throw new BadEventException("domainXml's root element is <" + Names.printable(root.getTagName()) + ">, not <domain>");
        }
        String name = Dom.childText(root, "name").orElseThrow(() -> new BadEventException("domainXml has no <name>"));
        String uuid = Dom.childText(root, "uuid").orElse(null);
        if (uuid != null && !UUID.matcher(uuid).matches()) {
            throw new BadEventException("domainXml's <uuid> '" + Names.printable(uuid) + "' is not a UUID");
        }
        return new DomainDefinition(name, uuid, disks(root), HostFiles.read(root), xml);
    }

    private static List<DomainDisk> disks(Element root) {
        List<DomainDisk> disks = new ArrayList<>();
        Optional<Element> devices = Dom.child(root, "devices");
        if (devices.isEmpty()) {
            return disks;
        }
        Set<String> targets = new HashSet<>();
        for (Element disk : Dom.children(devices.get(), "disk")) {
            DomainDisk d = DiskClassifier.classify(disk, disks.size() + 1);
            if (!targets.add(d.target())) {
                throw new BadEventException("domainXml has two disks with target '" + d.target() + "'");
            }
            disks.add(d);
        }
        return disks;
    }

    public List<DomainDisk> backedUp() {
        return disks.stream().filter(DomainDisk::backedUp).toList();
    }

    public List<DomainDisk> skipped() {
        return disks.stream().filter(d -> !d.backedUp()).toList();
    }

    /** The host file of this role, if the domain has one. */
    public Optional<HostFileRef> file(String role) {
        return files.stream().filter(f -> f.role().equals(role)).findFirst();
    }
}
