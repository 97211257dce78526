package dev.coldcopy.event;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Reads the disks to back up from a libvirt domain XML: file-backed qcow2 disks of device "disk"
 * (cdroms, raw images and network disks cannot be backed up incrementally and are skipped).
 */
public final class DomainXml {

    public record Domain(String name, List<DiskSpec> disks) {}

    private DomainXml() {}

    public static Domain parse(String xml) {
        Document doc;
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            // A domain XML never needs a DTD or external entity; refusing them closes XXE.
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            factory.setXIncludeAware(false);
            factory.setExpandEntityReferences(false);
            DocumentBuilder builder = factory.newDocumentBuilder();
            builder.setErrorHandler(null);
            doc = builder.parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            throw new BadEventException("domainXml is not valid XML: " + oneLine(e.getMessage()));
        }
        Element root = doc.getDocumentElement();
        if (!"domain".equals(root.getTagName())) {
            throw new BadEventException("domainXml's root element is <" + root.getTagName() + ">, not <domain>");
        }
        String name = childText(root, "name");
        if (name == null) {
            throw new BadEventException("domainXml has no <name>");
        }
        List<DiskSpec> disks = new ArrayList<>();
        Element devices = child(root, "devices");
        if (devices != null) {
            NodeList nodes = devices.getChildNodes();
            for (int i = 0; i < nodes.getLength(); i++) {
                if (nodes.item(i) instanceof Element disk && "disk".equals(disk.getTagName())) {
                    diskSpec(disk, disks);
                }
            }
        }
        return new Domain(name, disks);
    }

    private static void diskSpec(Element disk, List<DiskSpec> into) {
        if (!"file".equals(disk.getAttribute("type")) || !"disk".equals(attrOr(disk, "device", "disk"))) {
            return;
        }
        Element driver = child(disk, "driver");
        if (driver == null || !"qcow2".equals(driver.getAttribute("type"))) {
            return;
        }
        Element source = child(disk, "source");
        Element target = child(disk, "target");
        if (source == null || target == null || source.getAttribute("file").isEmpty()) {
            return;
        }
        String dev = EventNames.target(target.getAttribute("dev"));
        into.add(new DiskSpec(dev, EventParser.imagePath(source.getAttribute("file"), "domainXml disk " + dev)));
    }

    private static String attrOr(Element e, String attr, String fallback) {
        String v = e.getAttribute(attr);
        return v.isEmpty() ? fallback : v;
    }

    private static Element child(Element parent, String tag) {
        NodeList nodes = parent.getChildNodes();
        for (int i = 0; i < nodes.getLength(); i++) {
            if (nodes.item(i) instanceof Element e && tag.equals(e.getTagName())) {
                return e;
            }
        }
        return null;
    }

    private static String childText(Element parent, String tag) {
        Element e = child(parent, tag);
        return e == null ? null : e.getTextContent().strip();
    }

    private static String oneLine(String s) {
        return s == null ? "parse error" : s.replace('\n', ' ').strip();
    }
}
