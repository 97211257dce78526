package dev.coldcopy.domain;

import dev.coldcopy.event.EventParser;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.w3c.dom.Element;

/**
 * Finds the host files a domain's {@code <os>} names: the UEFI variable store and a direct kernel
 * boot's kernel, initrd and device tree.
 *
 * <p>Not the {@code <loader>}: it is the firmware code, owned by the host's firmware package (OVMF,
 * SeaBIOS) and replaced by its updates; a restore must use the host's current one, not an old copy.
 */
final class HostFiles {
    private HostFiles() {
    }

    /** Where the system libvirt keeps a UEFI domain's variables when its definition does not say ({@code NAME_VARS.fd}). */
    static final String LIBVIRT_NVRAM_DIR = "/var/lib/libvirt/qemu/nvram";

    static List<HostFileRef> read(Element domain) {
        List<HostFileRef> files = new ArrayList<>();
        Dom.child(domain, "os").ifPresent(os -> {
            Optional<Element> nvram = Dom.child(os, HostFileRef.NVRAM);
            nvram.flatMap(HostFiles::nvramPath).ifPresent(path -> files.add(ref(HostFileRef.NVRAM, path)));
            if (nvram.isEmpty() && usesUefiVariables(os)) {
                // <os firmware='efi'> in an inactive definition: libvirt picks the file at start, by this rule
                Dom.childText(domain, "name").ifPresent(name ->
                        files.add(ref(HostFileRef.NVRAM, LIBVIRT_NVRAM_DIR + "/" + name + "_VARS.fd")));
            }
            for (String role : List.of(HostFileRef.KERNEL, HostFileRef.INITRD, HostFileRef.DTB)) {
                Dom.childText(os, role).ifPresent(path -> files.add(ref(role, path)));
            }
        });
        return files;
    }

    /** Firmware autoselection of UEFI, or a pflash loader (OVMF code), keeps variables in an NVRAM file. */
    private static boolean usesUefiVariables(Element os) {
        boolean efi = Dom.attribute(os, "firmware").map("efi"::equals).orElse(false);
        boolean pflash = Dom.child(os, "loader").flatMap(l -> Dom.attribute(l, "type")).map("pflash"::equals).orElse(false);
        return efi || pflash;
    }

    /**
     * The nvram file: the element's text, or (libvirt 8.5 on) {@code <source file>} of an nvram of
     * type file. An nvram of another type (network, block) is no host file to copy.
     */
    static Optional<String> nvramPath(Element nvram) {
        Optional<String> type = Dom.attribute(nvram, "type");
        if (type.isEmpty()) {
            return Optional.of(nvram.getTextContent().strip()).filter(s -> !s.isEmpty());
        }
        if (!"file".equals(type.get())) {
            return Optional.empty();
        }
        return Dom.child(nvram, "source").flatMap(s -> Dom.attribute(s, "file"));
    }

    private static HostFileRef ref(String role, String path) {
        return new HostFileRef(role, EventParser.hostPath(path, "domainXml " + role));
    }
}
