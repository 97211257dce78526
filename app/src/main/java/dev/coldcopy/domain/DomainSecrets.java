package dev.coldcopy.domain;

import dev.coldcopy.domain.XmlMarkup.Element;
import dev.coldcopy.security.Names;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;

/**
 * Removes from a domain XML the secrets libvirt writes literally, and prints only to a caller that asks
 * for them ({@code virsh dumpxml --security-info}): the password of a graphics console (vnc, spice, rdp)
 * and the cookies of an http(s) disk source (CVE-2020-14301). Everything else in libvirt's domain
 * format that guards access is a reference to a libvirt secret ({@code <secret uuid>}, {@code
 * <encryption>}), which is no secret itself and is kept.
 *
 * <p>The secrets are cut out of the text; every other character stays as it was, so what is stored
 * is the document the user had, minus the secrets.
 */
public final class DomainSecrets {
    private static final String GRAPHICS = "graphics";
    private static final String PASSWD = "passwd";
    private static final String COOKIES = "cookies";
    private static final String SOURCE = "source";

    /**
     * @param xml     the document without its secrets
     * @param removed what was removed, one entry per secret ("graphics vnc password", "disk vdc https cookies")
     */
    public record Stripped(String xml, List<String> removed) {
        public Stripped {
            removed = List.copyOf(removed);
        }
    }

    private DomainSecrets() {
    }

    /** A malformed document is a {@link dev.coldcopy.event.BadEventException}, as for {@link DomainDefinition#parse}. */
    public static Stripped strip(String xml) {
        HardenedXml.parse(xml);                                  // well-formed and without a DTD, before scanning it
        TextEdits edits = new TextEdits(xml);
        List<String> removed = new ArrayList<>();
        Element root = XmlMarkup.root(xml);
        for (Element e : root.descendants()) {
            Element parent = e.parent;
            if (e.name().equals(GRAPHICS) && parent != null && parent.name().equals("devices") && parent.parent == root) {
                e.attribute(PASSWD).ifPresent(passwd -> {
                    edits.remove(passwd);
                    removed.add("graphics " + e.attribute("type").map(t -> Names.printable(t.value()) + " ").orElse("")
                            + "password");
                });
            } else if (e.name().equals(COOKIES) && parent != null && parent.name().equals(SOURCE)) {
                edits.remove(e);
                String protocol = parent.attribute("protocol").map(p -> Names.printable(p.value())).orElse("source");
                removed.add(diskOf(e).map(d -> "disk " + d + " ").orElse("") + protocol + " cookies");
            }
        }
        if (edits.isEmpty()) {
            return new Stripped(xml, removed);
        }
        String stripped = edits.apply();
        requireNoSecret(stripped);
        return new Stripped(stripped, removed);
    }

    /** The target of the disk an element belongs to (its source, or a backing store's). */
    private static Optional<String> diskOf(Element e) {
        for (Element up = e.parent; up != null; up = up.parent) {
            if (up.name().equals("disk")) {
                return up.child("target").flatMap(t -> t.attribute("dev")).map(dev -> Names.printable(dev.value()));
            }
        }
        return Optional.empty();
    }

    /** A second, independent look (the DOM): a secret the text scan missed must never be stored. */
    private static void requireNoSecret(String xml) {
        Document doc = HardenedXml.parse(xml);
        for (org.w3c.dom.Element devices : Dom.children(doc.getDocumentElement(), "devices")) {
            for (org.w3c.dom.Element graphics : Dom.children(devices, GRAPHICS)) {
                if (graphics.hasAttribute(PASSWD)) {
                    throw new IllegalStateException("a graphics password is left in the domain XML");
                }
            }
        }
        NodeList cookies = doc.getElementsByTagName(COOKIES);
        for (int i = 0; i < cookies.getLength(); i++) {
            if (cookies.item(i).getParentNode() instanceof org.w3c.dom.Element p && p.getTagName().equals(SOURCE)) {
                throw new IllegalStateException("disk cookies are left in the domain XML");
            }
        }
    }
}
