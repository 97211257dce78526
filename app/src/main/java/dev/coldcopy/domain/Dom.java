package dev.coldcopy.domain;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** Direct-child navigation: a domain XML's meaning depends on where an element is, never on a deep search. */
final class Dom {
    private Dom() {
    }

    static Optional<Element> child(Element parent, String tag) {
        NodeList nodes = parent.getChildNodes();
        for (int i = 0; i < nodes.getLength(); i++) {
            if (nodes.item(i) instanceof Element e && tag.equals(e.getTagName())) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }

    static List<Element> children(Element parent, String tag) {
        List<Element> found = new ArrayList<>();
        NodeList nodes = parent.getChildNodes();
        for (int i = 0; i < nodes.getLength(); i++) {
            if (nodes.item(i) instanceof Element e && tag.equals(e.getTagName())) {
                found.add(e);
            }
        }
        return found;
    }

    /** The stripped text of a child element, empty when the child is missing or blank. */
    static Optional<String> childText(Element parent, String tag) {
        return child(parent, tag).map(e -> e.getTextContent().strip()).filter(s -> !s.isEmpty());
    }

    /** An attribute's value, empty when absent or blank (DOM answers "" for both). */
    static Optional<String> attribute(Element e, String name) {
        String value = e.getAttribute(name);
        return value.isBlank() ? Optional.empty() : Optional.of(value);
    }
}
