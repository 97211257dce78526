package dev.coldcopy.repository.backend;

import dev.coldcopy.repository.RepositoryException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * Checks what an object store says it stored against what was sent: for a single-part upload S3's ETag
 * is the hex MD5 of the body; for a multipart upload it is the MD5 of the parts' binary MD5s, a dash and
 * the part count. The MD5 is of the bytes in memory, so checking costs no second read.
 */
final class StoredDigest {
    private StoredDigest() {
    }

    static byte[] md5(byte[] data) {
        return md5(data, 0, data.length);
    }

    static byte[] md5(byte[] data, int offset, int length) {
        MessageDigest md = md5();
        md.update(data, offset, length);
        return md.digest();
    }

    static void checkETag(String key, String where, String etag, byte[] md5) throws RepositoryException {
        String expected = HexFormat.of().formatHex(md5);
        String got = unquote(etag);
        if (!expected.equals(got)) {
            throw new RepositoryException("the store did not keep what was sent for " + key + " in " + where
                    + ": its ETag is " + (got == null ? "missing" : got) + ", the MD5 of the bytes sent is " + expected
                    + " (a store or proxy that rewrites uploads, or keeps the aws-chunked framing: "
                    + S3Settings.conservativeHint() + "; if the store encrypts with KMS, its ETags are not MD5s: set verify=content-md5)");
        }
    }

    static void checkMultipartETag(String key, String where, String etag, List<byte[]> partMd5s) throws RepositoryException {
        MessageDigest md = md5();
        partMd5s.forEach(md::update);
        checkETag(key, where, unquote(etag) == null ? null : unquote(etag).replaceFirst("-" + partMd5s.size() + "$", ""), md.digest());
    }

    private static String unquote(String etag) {
        if (etag == null) {
            return null;
        }
        String t = etag.strip();
        if (t.startsWith("W/")) {
            t = t.substring(2);
        }
        if (t.length() >= 2 && t.startsWith("\"") && t.endsWith("\"")) {
            t = t.substring(1, t.length() - 1);
        }
        return t.toLowerCase(Locale.ROOT);
    }

    private static MessageDigest md5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no MD5", e);
        }
    }
}
