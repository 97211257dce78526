package dev.coldcopy.repository.backend;

import dev.coldcopy.repository.RepositoryUri;
import java.net.URI;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * How coldcopy talks to one S3 store. Each setting comes from the repository URI's query parameter of the
 * same name, else from configuration ({@code coldcopy.repository.s3.NAME}, given as
 * {@link dev.coldcopy.repository.RepositoryOptions#s3Settings()}), else from the default for the kind of
 * endpoint: AWS itself (no {@code endpoint}, or a host under amazonaws.com) keeps the SDK's defaults;
 * every other endpoint gets the conservative subset that S3-compatible stores implement (checksums only
 * where an operation requires one, no aws-chunked uploads, path-style addressing), because the SDK's
 * newer defaults make some stores keep the chunk framing as the object's content.
 *
 * @param checksum        {@code when-required} or {@code when-supported} (the SDK's flexible checksums)
 * @param pathStyle       bucket in the path ({@code http://host/bucket/key}) instead of the host name
 * @param chunkedEncoding {@code aws-chunked} streaming uploads (signed in chunks)
 * @param verify          {@code etag}: the ETag a store returns for a single-part upload must be the MD5 of
 *                        the body sent (and Content-MD5 is sent); {@code content-md5}: only send Content-MD5
 *                        and let the store check it (for stores whose ETags are not MD5s, e.g. SSE-KMS)
 * @param multipartThreshold objects larger than this go up in parts
 * @param partSize        the size of each part (the last one may be smaller)
 */
public record S3Settings(Optional<URI> endpoint, String region, Checksum checksum, boolean pathStyle,
                         boolean chunkedEncoding, Verify verify, long multipartThreshold, long partSize) {
    /** S3's smallest part (except the last) and its largest part count */
    public static final long MIN_PART_SIZE = 5L * 1024 * 1024;
    public static final int MAX_PARTS = 10_000;
    public static final long DEFAULT_MULTIPART_THRESHOLD = 100L * 1024 * 1024;
    public static final long DEFAULT_PART_SIZE = 16L * 1024 * 1024;

    public enum Checksum { WHEN_REQUIRED, WHEN_SUPPORTED }

    public enum Verify { ETAG, CONTENT_MD5 }

    /** the setting names, as URI parameters and under {@code coldcopy.repository.s3.} */
    public static final String CHECKSUM = "checksum";
    public static final String PATH_STYLE = "pathStyle";
    public static final String CHUNKED_ENCODING = "chunkedEncoding";
    public static final String VERIFY = "verify";
    public static final String MULTIPART_THRESHOLD = "multipartThreshold";
    public static final String PART_SIZE = "partSize";

    public static S3Settings of(RepositoryUri uri, Map<String, String> configured) {
        Optional<URI> endpoint = uri.param("endpoint").filter(e -> !e.isBlank()).map(S3Settings::endpointUri);
        boolean aws = endpoint.isEmpty() || isAws(endpoint.get());
        String region = setting(uri, configured, "region")
                .or(() -> Optional.ofNullable(System.getenv("AWS_REGION")))
                .orElse("us-east-1");
        Checksum checksum = setting(uri, configured, CHECKSUM).map(S3Settings::checksum)
                .orElse(aws ? Checksum.WHEN_SUPPORTED : Checksum.WHEN_REQUIRED);
        boolean pathStyle = setting(uri, configured, PATH_STYLE).or(() -> uri.param("forcePathStyle"))
                .map(v -> bool(PATH_STYLE, v)).orElse(!aws);
        boolean chunked = setting(uri, configured, CHUNKED_ENCODING).map(v -> bool(CHUNKED_ENCODING, v)).orElse(aws);
        Verify verify = setting(uri, configured, VERIFY).map(S3Settings::verify).orElse(Verify.ETAG);
        long threshold = setting(uri, configured, MULTIPART_THRESHOLD).map(v -> size(MULTIPART_THRESHOLD, v))
                .orElse(DEFAULT_MULTIPART_THRESHOLD);
        long part = setting(uri, configured, PART_SIZE).map(v -> size(PART_SIZE, v)).orElse(DEFAULT_PART_SIZE);
        if (part < MIN_PART_SIZE) {
            throw new IllegalArgumentException("s3 " + PART_SIZE + " must be at least 5 MiB (the S3 minimum), got " + part);
        }
        if (threshold < part) {
            throw new IllegalArgumentException("s3 " + MULTIPART_THRESHOLD + " (" + threshold + ") must not be below "
                    + PART_SIZE + " (" + part + ")");
        }
        return new S3Settings(endpoint, region, checksum, pathStyle, chunked, verify, threshold, part);
    }

    /** true for AWS's own endpoints, where the SDK's defaults are what the service expects */
    public boolean aws() {
        return endpoint.isEmpty() || isAws(endpoint.get());
    }

    /** the part size for an object: the configured one, grown if the object would need more than 10,000 parts */
    public long partSizeFor(long length) {
        long size = partSize;
        while ((length + size - 1) / size > MAX_PARTS) {
            size *= 2;
        }
        return size;
    }

    /** what to set to reach the conservative settings, as a hint in error messages */
    public static String conservativeHint() {
        return "set checksum=when-required&chunkedEncoding=false&pathStyle=true on the repository URI"
                + " (or coldcopy.repository.s3.checksum/chunkedEncoding/pathStyle)";
    }

    @Override
    public String toString() {
        return "checksum=" + name(checksum) + ", pathStyle=" + pathStyle + ", chunkedEncoding=" + chunkedEncoding
                + ", verify=" + name(verify) + ", multipartThreshold=" + multipartThreshold + ", partSize=" + partSize;
    }

    private static String name(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    private static boolean isAws(URI endpoint) {
        String host = endpoint.getHost() == null ? "" : endpoint.getHost().toLowerCase(Locale.ROOT);
        return host.equals("amazonaws.com") || host.endsWith(".amazonaws.com") || host.endsWith(".amazonaws.com.cn");
    }

    private static URI endpointUri(String text) {
        try {
            URI u = URI.create(text);
            if (u.getScheme() == null || u.getHost() == null) {
                throw new IllegalArgumentException("s3 endpoint must be an http(s) URL like http://host:9000, got " + text);
            }
            return u;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("s3 endpoint must be an http(s) URL like http://host:9000, got " + text);
        }
    }

    private static Optional<String> setting(RepositoryUri uri, Map<String, String> configured, String name) {
        Optional<String> fromUri = uri.param(name);
        if (fromUri.isPresent()) {
            return fromUri.map(String::strip);
        }
        for (Map.Entry<String, String> e : configured.entrySet()) {
            if (normal(e.getKey()).equals(normal(name)) && e.getValue() != null && !e.getValue().isBlank()) {
                return Optional.of(e.getValue().strip());
            }
        }
        return Optional.empty();
    }

    /** pathStyle, path-style and path_style are the same key */
    private static String normal(String key) {
        return key.replace("-", "").replace("_", "").toLowerCase(Locale.ROOT);
    }

    private static Checksum checksum(String v) {
        return switch (normal(v)) {
            case "whenrequired" -> Checksum.WHEN_REQUIRED;
            case "whensupported" -> Checksum.WHEN_SUPPORTED;
            default -> throw new IllegalArgumentException("s3 " + CHECKSUM + " must be when-required or when-supported, got " + v);
        };
    }

    private static Verify verify(String v) {
        return switch (normal(v)) {
            case "etag" -> Verify.ETAG;
            case "contentmd5" -> Verify.CONTENT_MD5;
            default -> throw new IllegalArgumentException("s3 " + VERIFY + " must be etag or content-md5, got " + v);
        };
    }

    private static boolean bool(String name, String v) {
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "true", "yes" -> true;
            case "false", "no" -> false;
            default -> throw new IllegalArgumentException("s3 " + name + " must be true or false, got " + v);
        };
    }

    private static long size(String name, String v) {
        String t = v.strip().toUpperCase(Locale.ROOT);
        long unit = 1;
        if (t.endsWith("MIB") || t.endsWith("M")) {
            unit = 1024L * 1024;
            t = t.substring(0, t.length() - (t.endsWith("MIB") ? 3 : 1));
        } else if (t.endsWith("GIB") || t.endsWith("G")) {
            unit = 1024L * 1024 * 1024;
            t = t.substring(0, t.length() - (t.endsWith("GIB") ? 3 : 1));
        }
        try {
            return Long.parseLong(t.strip()) * unit;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("s3 " + name + " must be a size in bytes, or with M/MiB or G/GiB, got " + v);
        }
    }
}
