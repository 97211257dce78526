package dev.coldcopy.domain;

import dev.coldcopy.domain.XmlMarkup.Attribute;
import dev.coldcopy.domain.XmlMarkup.Element;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Changes to an XML text, by character position: everything not edited stays byte for byte. Positions
 * refer to the original text; edits must not overlap.
 */
final class TextEdits {
    private record Edit(int start, int stop, String replacement) {}

    private final String text;
    private final List<Edit> edits = new ArrayList<>();

    TextEdits(String text) {
        this.text = text;
    }

    boolean isEmpty() {
        return edits.isEmpty();
    }

    void replace(int start, int stop, String replacement) {
        edits.add(new Edit(start, stop, replacement));
    }

    /** Removes the element with the indentation of its line, so no blank line is left behind. */
    void remove(Element e) {
        replace(lineStart(e.start()), e.stop(), "");
    }

    void remove(Attribute a) {
        replace(a.start(), a.stop(), "");
    }

    /** Sets an attribute's value, adding the attribute (quoted as the tag's others are) when it is missing. */
    void setAttribute(Element e, String name, String value) {
        e.attribute(name).ifPresentOrElse(
                a -> replace(a.valueStart(), a.valueStop(), escapeAttribute(value, a.quote())),
                () -> {
                    char quote = e.startTag.attributes().isEmpty() ? '\'' : e.startTag.attributes().get(0).quote();
                    int at = e.startTag.attributesEnd();
                    replace(at, at, " " + name + "=" + quote + escapeAttribute(value, quote) + quote);
                });
    }

    /** Replaces the content of an element that has an end tag. */
    void setText(Element e, String value) {
        replace(e.startTag.stop(), e.endTag.start(), escapeText(value));
    }

    /** Puts {@code markup} before {@code next}, on a line of its own with the same indentation when {@code next} has one. */
    void insertBefore(Element next, String markup) {
        int line = lineStart(next.start());
        String indent = text.substring(line, next.start()).replaceFirst("^\n", "");
        replace(next.start(), next.start(), line < next.start() ? markup + "\n" + indent : markup);
    }

    String apply() {
        List<Edit> sorted = edits.stream().sorted(Comparator.comparingInt(Edit::start).thenComparingInt(Edit::stop)).toList();
        for (int i = 1; i < sorted.size(); i++) {
            if (sorted.get(i).start() < sorted.get(i - 1).stop()) {
                throw new IllegalStateException("overlapping edits of the domain XML at " + sorted.get(i).start());
            }
        }
        StringBuilder out = new StringBuilder(text);
        for (int i = sorted.size() - 1; i >= 0; i--) {
            Edit e = sorted.get(i);
            out.replace(e.start(), e.stop(), e.replacement());
        }
        return out.toString();
    }

    /** Where an element's line begins (its newline included), when only indentation precedes it; else its own start. */
    private int lineStart(int start) {
        int i = start;
        while (i > 0 && (text.charAt(i - 1) == ' ' || text.charAt(i - 1) == '\t')) {
            i--;
        }
        return i > 0 && text.charAt(i - 1) == '\n' ? i - 1 : start;
    }

    static String escapeText(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    static String escapeAttribute(String s, char quote) {
        String escaped = escapeText(s).replace("\n", "&#10;").replace("\t", "&#9;").replace("\r", "&#13;");
        return quote == '\'' ? escaped.replace("'", "&apos;") : escaped.replace("\"", "&quot;");
    }
}
