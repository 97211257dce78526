package dev.coldcopy.repository.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The head of an HTTP/1.1 message as the test proxies read it: the request line and header lines, CRLF-ended. */
final class HttpHead {
    private HttpHead() {
    }

    /** A header line's name, lower-case. */
    static String name(String header) {
        int colon = header.indexOf(':');
        return (colon < 0 ? header : header.substring(0, colon)).strip().toLowerCase(Locale.ROOT);
    }

    /** The lines up to the empty one that ends the head (the body stays in the stream); fewer at end of stream. */
    static List<String> read(InputStream in) throws IOException {
        List<String> lines = new ArrayList<>();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int prev = -1;
        int c;
        while ((c = in.read()) >= 0) {
            if (prev == '\r' && c == '\n') {
                byte[] b = line.toByteArray();
                String text = new String(b, 0, b.length - 1, StandardCharsets.ISO_8859_1);
                if (text.isEmpty()) {
                    return lines;
                }
                lines.add(text);
                line.reset();
                prev = -1;
                continue;
            }
            line.write(c);
            prev = c;
        }
        return lines;
    }
}
