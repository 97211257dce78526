package dev.coldcopy.repository;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Where a repository lives: {@code file:/path}, {@code s3://bucket/prefix?endpoint=..&region=..} or
 * {@code sftp://user@host[:port]/path?privateKeyFile=..&knownHostsFile=..}. {@link #toString()} hides
 * secrets (secretKey, accessKey, password): print that, never {@link #raw()}.
 */
public final class RepositoryUri {
    public enum Scheme { FILE, S3, SFTP }

    /** query parameters whose values are secrets */
    private static final Set<String> SECRET_PARAMS = Set.of("secretkey", "accesskey", "password", "sessiontoken", "passphrase");

    private final Scheme scheme;
    private final String raw;
    private final String host;      // S3: bucket; SFTP: host
    private final int port;         // SFTP only, -1 if not given
    private final String user;      // SFTP only
    private final String path;      // FILE: absolute path; S3: prefix without slashes at the ends; SFTP: absolute path
    private final Map<String, String> params;

    private RepositoryUri(Scheme scheme, String raw, String host, int port, String user, String path, Map<String, String> params) {
        this.scheme = scheme;
        this.raw = raw;
        this.host = host;
        this.port = port;
        this.user = user;
        this.path = path;
        this.params = Collections.unmodifiableMap(params);
    }

    public static RepositoryUri parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("repository URI is empty");
        }
        String t = text.strip();
        if (t.startsWith("/")) {
            return file(Path.of(t));
        }
        int colon = t.indexOf(':');
        String scheme = colon < 0 ? "" : t.substring(0, colon).toLowerCase(Locale.ROOT);
        switch (scheme) {
            case "file": {
                String rest = t.substring(colon + 1);
                if (rest.startsWith("//")) {
                    rest = rest.substring(2);
                    if (!rest.startsWith("/")) {
                        throw new IllegalArgumentException("file repository URI must name an absolute path: " + redact(t));
                    }
                }
                int q = rest.indexOf('?');
                Map<String, String> params = q < 0 ? new LinkedHashMap<>() : query(rest.substring(q + 1));
                String p = decode(q < 0 ? rest : rest.substring(0, q));
                if (p.isEmpty()) {
                    throw new IllegalArgumentException("file repository URI has no path: " + redact(t));
                }
                return new RepositoryUri(Scheme.FILE, t, null, -1, null, Path.of(p).toAbsolutePath().normalize().toString(), params);
            }
            case "s3": {
                URI u = uri(t);
                String bucket = u.getHost() != null ? u.getHost() : u.getRawAuthority();
                if (bucket == null || bucket.isEmpty()) {
                    throw new IllegalArgumentException("s3 repository URI needs a bucket: s3://bucket/prefix, got " + redact(t));
                }
                String prefix = trimSlashes(u.getPath() == null ? "" : u.getPath());
                return new RepositoryUri(Scheme.S3, t, bucket, -1, null, prefix, query(u.getRawQuery()));
            }
            case "sftp": {
                URI u = uri(t);
                if (u.getHost() == null) {
                    throw new IllegalArgumentException("sftp repository URI needs a host: sftp://user@host[:port]/path, got " + redact(t));
                }
                if (u.getUserInfo() == null || u.getUserInfo().isEmpty()) {
                    throw new IllegalArgumentException("sftp repository URI needs a user: sftp://user@host[:port]/path, got " + redact(t));
                }
                if (u.getUserInfo().contains(":")) {
                    throw new IllegalArgumentException("sftp repository URI must not carry a password; use a private key file: " + redact(t));
                }
                String p = u.getPath() == null || u.getPath().isEmpty() ? "/" : u.getPath();
                String normal = "/" + trimSlashes(p);
                return new RepositoryUri(Scheme.SFTP, t, u.getHost(), u.getPort(), u.getUserInfo(), normal, query(u.getRawQuery()));
            }
            default:
                throw new IllegalArgumentException("unsupported repository URI (use file:/path, s3://bucket/prefix or sftp://user@host/path): " + redact(t));
        }
    }

    public static RepositoryUri file(Path dir) {
        String p = dir.toAbsolutePath().normalize().toString();
        return new RepositoryUri(Scheme.FILE, "file:" + p, null, -1, null, p, new LinkedHashMap<>());
    }

    public Scheme scheme() {
        return scheme;
    }

    /** FILE: the directory */
    public Path directory() {
        return Path.of(path);
    }

    /** S3: the bucket */
    public String bucket() {
        return host;
    }

    /** S3: key prefix without leading/trailing slash (may be empty); FILE/SFTP: the absolute path */
    public String path() {
        return path;
    }

    public String host() {
        return host;
    }

    /** SFTP port or -1 */
    public int port() {
        return port;
    }

    public String user() {
        return user;
    }

    public Optional<String> param(String name) {
        for (Map.Entry<String, String> e : params.entrySet()) {
            if (e.getKey().equalsIgnoreCase(name)) {
                return Optional.ofNullable(e.getValue());
            }
        }
        return Optional.empty();
    }

    /** the URI as given, secrets included: never print or log this */
    public String raw() {
        return raw;
    }

    /** the URI with secret parameter values replaced by xxxxxx */
    @Override
    public String toString() {
        return redact(raw);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RepositoryUri other && raw.equals(other.raw);
    }

    @Override
    public int hashCode() {
        return raw.hashCode();
    }

    /** Replaces the values of secret query parameters (and any user:password@) in a URI-like string. */
    public static String redact(String text) {
        if (text == null) {
            return null;
        }
        String out = text.replaceAll("(//[^/@:?]+):[^/@?]*@", "$1:xxxxxx@");
        int q = out.indexOf('?');
        if (q < 0) {
            return out;
        }
        StringBuilder sb = new StringBuilder(out.substring(0, q + 1));
        String[] parts = out.substring(q + 1).split("&", -1);
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) {
                sb.append('&');
            }
            String part = parts[i];
            int eq = part.indexOf('=');
            String name = eq < 0 ? part : part.substring(0, eq);
            if (eq >= 0 && SECRET_PARAMS.contains(name.toLowerCase(Locale.ROOT))) {
                sb.append(name).append("=xxxxxx");
            } else {
                sb.append(part);
            }
        }
        return sb.toString();
    }

    private static URI uri(String t) {
        try {
            return new URI(t);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("malformed repository URI " + redact(t) + ": " + e.getReason());
        }
    }

    private static Map<String, String> query(String q) {
        Map<String, String> m = new LinkedHashMap<>();
        if (q == null || q.isEmpty()) {
            return m;
        }
        for (String part : q.split("&")) {
            if (part.isEmpty()) {
                continue;
            }
            int eq = part.indexOf('=');
            m.put(decode(eq < 0 ? part : part.substring(0, eq)), eq < 0 ? "" : decode(part.substring(eq + 1)));
        }
        return m;
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static String trimSlashes(String s) {
        int b = 0;
        int e = s.length();
        while (b < e && s.charAt(b) == '/') {
            b++;
        }
        while (e > b && s.charAt(e - 1) == '/') {
            e--;
        }
        return s.substring(b, e);
    }
}
