package dev.coldcopy.nbd.protocol;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A TLS pre-shared key: the identity (user name) and the key bytes. Read from a key file in the format
 * GnuTLS's psktool writes and nbdkit's {@code --tls-psk} and qemu's {@code tls-creds-psk} read: one
 * {@code username:hexkey} per line.
 */
public record TlsPsk(String identity, byte[] key) {

    public TlsPsk {
        if (identity == null || identity.isEmpty() || key == null || key.length == 0) {
            throw new IllegalArgumentException("a TLS-PSK needs a user name and a non-empty key");
        }
        key = key.clone();
    }

    @Override
    public byte[] key() {
        return key.clone();
    }

    @Override
    public String toString() {
        return "TlsPsk[" + identity + "]"; // never the key
    }

    /**
     * The key of {@code username} in a psktool key file; with {@code username} null the file must hold
     * exactly one key, which is used.
     */
    public static TlsPsk fromFile(Path file, String username) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read TLS-PSK key file " + file + ": " + e.getMessage(), e);
        }
        Map<String, String> keys = new LinkedHashMap<>();
        for (String line : lines) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            int colon = l.lastIndexOf(':');
            if (colon <= 0 || colon == l.length() - 1) {
                throw new IllegalArgumentException("TLS-PSK key file " + file + " has a line that is not username:hexkey");
            }
            keys.put(l.substring(0, colon), l.substring(colon + 1));
        }
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("TLS-PSK key file " + file + " holds no key (expected username:hexkey lines, as psktool writes)");
        }
        String user = username;
        if (user == null || user.isEmpty()) {
            if (keys.size() > 1) {
                throw new IllegalArgumentException("TLS-PSK key file " + file + " holds keys for " + keys.keySet()
                        + ": name the user (tlsUsername, CLI --tls-username)");
            }
            user = keys.keySet().iterator().next();
        }
        String hex = keys.get(user);
        if (hex == null) {
            throw new IllegalArgumentException("TLS-PSK key file " + file + " has no key for user '" + user + "'");
        }
        try {
            return new TlsPsk(user, HexFormat.of().parseHex(hex));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("TLS-PSK key of user '" + user + "' in " + file + " is not hexadecimal");
        }
    }
}
