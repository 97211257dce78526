package dev.coldcopy.domain;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The element tree of a well-formed XML document without a DTD, with the exact character positions of
 * every tag and attribute: what {@link DomainSecrets} and {@link RestoredDomain} need to change a few
 * values and leave every other character as it was (a DOM round trip would re-order and re-quote
 * attributes). Only ever run on a document the hardened parser accepted, so it need not diagnose errors.
 */
final class XmlMarkup {

    /** An attribute, from the whitespace before its name to after its closing quote. */
    record Attribute(String name, String value, int start, int stop, int valueStart, int valueStop, char quote) {}

    /** A start or empty-element tag, or an end tag, from {@code <} to after {@code >}. */
    record Tag(String name, int start, int stop, boolean empty, List<Attribute> attributes) {
        /** Where a new attribute goes: after the last one, or after the name. */
        int attributesEnd() {
            return attributes.isEmpty() ? start + 1 + name.length() : attributes.get(attributes.size() - 1).stop();
        }
    }

    /** An element: its start tag, its end tag (null when it is empty, {@code <name/>}), its child elements. */
    static final class Element {
        final Tag startTag;
        Tag endTag;
        final Element parent;
        final List<Element> children = new ArrayList<>();

        Element(Tag startTag, Element parent) {
            this.startTag = startTag;
            this.parent = parent;
        }

        String name() {
            return startTag.name();
        }

        int start() {
            return startTag.start();
        }

        int stop() {
            return endTag == null ? startTag.stop() : endTag.stop();
        }

        Optional<Element> child(String name) {
            return children.stream().filter(c -> c.name().equals(name)).findFirst();
        }

        List<Element> children(String name) {
            return children.stream().filter(c -> c.name().equals(name)).toList();
        }

        Optional<Attribute> attribute(String name) {
            return startTag.attributes().stream().filter(a -> a.name().equals(name)).findFirst();
        }

        /** This element and all below it, in document order. */
        List<Element> descendants() {
            List<Element> all = new ArrayList<>();
            all.add(this);
            children.forEach(c -> all.addAll(c.descendants()));
            return all;
        }
    }

    private final String text;
    private int pos;

    private XmlMarkup(String text) {
        this.text = text;
    }

    /** The root element; comments, CDATA sections, processing instructions and text are skipped. */
    static Element root(String xml) {
        return new XmlMarkup(xml).scan();
    }

    private Element scan() {
        Element root = null;
        Element current = null;
        while ((pos = text.indexOf('<', pos)) >= 0) {
            if (text.startsWith("<!--", pos)) {
                pos = text.indexOf("-->", pos) + 3;
            } else if (text.startsWith("<![CDATA[", pos)) {
                pos = text.indexOf("]]>", pos) + 3;
            } else if (text.startsWith("<?", pos)) {
                pos = text.indexOf("?>", pos) + 2;
            } else if (text.startsWith("</", pos)) {
                current.endTag = tag(2);
                current = current.parent;
            } else {
                Element e = new Element(tag(1), current);
                if (current == null) {
                    root = e;
                } else {
                    current.children.add(e);
                }
                if (!e.startTag.empty()) {
                    current = e;
                }
            }
        }
        return root;
    }

    /** The tag at {@code pos}, whose name starts {@code skip} characters in. */
    private Tag tag(int skip) {
        int start = pos;
        pos += skip;
        String name = name();
        List<Attribute> attributes = new ArrayList<>();
        while (true) {
            int before = pos;
            skipSpace();
            char c = text.charAt(pos);
            if (c == '>') {
                pos++;
                return new Tag(name, start, pos, false, attributes);
            }
            if (c == '/') {
                pos += 2;                                        // "/>"
                return new Tag(name, start, pos, true, attributes);
            }
            String attr = name();
            skipSpace();
            pos++;                                               // '='
            skipSpace();
            char quote = text.charAt(pos);
            int close = text.indexOf(quote, pos + 1);
            attributes.add(new Attribute(attr, text.substring(pos + 1, close), before, close + 1, pos + 1, close, quote));
            pos = close + 1;
        }
    }

    private String name() {
        int from = pos;
        while (!isNameEnd(text.charAt(pos))) {
            pos++;
        }
        return text.substring(from, pos);
    }

    private static boolean isNameEnd(char c) {
        return Character.isWhitespace(c) || c == '>' || c == '/' || c == '=';
    }

    private void skipSpace() {
        while (Character.isWhitespace(text.charAt(pos))) {
            pos++;
        }
    }
}
