package dev.coldcopy.domain;

import dev.coldcopy.event.BadEventException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.xml.sax.ErrorHandler;
import org.xml.sax.SAXParseException;

/**
 * The JDK's XML parser closed against what a domain XML never needs: a DTD, external
 * entities, XInclude. A domain XML can come from anyone who may drop an event, so this is the one way
 * coldcopy reads one.
 */
final class HardenedXml {

    /** The parser's own default handler prints "[Fatal Error]" lines to stderr; the exception says it all. */
    private static final ErrorHandler SILENT = new ErrorHandler() {
        @Override
        public void warning(SAXParseException e) {
        }

        @Override
        public void error(SAXParseException e) throws SAXParseException {
            throw e;
        }

        @Override
        public void fatalError(SAXParseException e) throws SAXParseException {
            throw e;
        }
    };

    private HardenedXml() {
    }

    /** Parses {@code xml}; a refused or malformed document is a {@link BadEventException} with a one-line reason. */
    static Document parse(String xml) {
        if (xml == null || xml.isBlank()) {
            throw new BadEventException("domainXml is empty");
        }
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            // A domain XML never needs a DTD or external entity; refusing them closes XXE.
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            factory.setXIncludeAware(false);
            factory.setExpandEntityReferences(false);
            // libvirt's own extensions (qemu:commandline) are namespaced: an unbound prefix is an error, as in libvirt
            factory.setNamespaceAware(true);
            DocumentBuilder builder = factory.newDocumentBuilder();
            builder.setErrorHandler(SILENT);
            return builder.parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            throw new BadEventException("domainXml is not valid XML: " + oneLine(e.getMessage()));
        }
    }

    static String oneLine(String s) {
        return s == null ? "parse error" : s.replace('\n', ' ').replace('\r', ' ').strip();
    }
}
