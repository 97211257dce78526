package dev.coldcopy.repository;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The repository's config object ({@code config}, plain JSON, written once by init): format version,
 * a short id, chunk size, compression, and for an encrypted repository the key derivation salt and a
 * key check (an HMAC derived from the key, not the key).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public final class RepositoryConfig {
    public static final String KEY = "config";
    public static final int FORMAT = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

    public int format = FORMAT;
    /** 8 hex digits, stable for the repository's life; used in checkpoint bitmap names */
    public String id;
    public String created;
    public int chunkSize;
    public String compression = "zstd";
    public int zstdLevel;
    public String hash;
    public Encryption encryption;

    @JsonIgnoreProperties(ignoreUnknown = true)
    public static final class Encryption {
        public String algorithm = "AES-256-GCM";
        public String keyDerivation = "HKDF-HMAC-SHA256";
        public String salt;
        public String keyCheck;
    }

    public static RepositoryConfig create(int chunkSize, int zstdLevel, byte[] masterKey) {
        SecureRandom random = new SecureRandom();
        RepositoryConfig c = new RepositoryConfig();
        byte[] id = new byte[4];
        random.nextBytes(id);
        c.id = HexFormat.of().formatHex(id);
        c.created = Instant.now().toString();
        c.chunkSize = chunkSize;
        c.zstdLevel = zstdLevel;
        if (masterKey == null) {
            c.hash = "SHA-256";
        } else {
            c.hash = "HMAC-SHA-256";
            byte[] salt = new byte[32];
            random.nextBytes(salt);
            Encryption e = new Encryption();
            e.salt = Base64.getEncoder().encodeToString(salt);
            e.keyCheck = Base64.getEncoder().encodeToString(RepositoryKeys.derive(masterKey, salt).keyCheck());
            c.encryption = e;
        }
        return c;
    }

    public boolean encrypted() {
        return encryption != null;
    }

    byte[] salt() {
        return Base64.getDecoder().decode(encryption.salt);
    }

    byte[] keyCheck() {
        return Base64.getDecoder().decode(encryption.keyCheck);
    }

    public byte[] toJson() {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static RepositoryConfig parse(byte[] json, String where) throws RepositoryException {
        RepositoryConfig c;
        try {
            c = JSON.readValue(json, RepositoryConfig.class);
        } catch (IOException e) {
            throw new RepositoryException("repository config in " + where + " is not valid JSON: " + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
        }
        if (c.format != FORMAT) {
            throw new RepositoryException("repository " + where + " has format " + c.format + "; this coldcopy reads format " + FORMAT);
        }
        if (c.id == null || c.chunkSize <= 0 || !"zstd".equals(c.compression)) {
            throw new RepositoryException("repository config in " + where + " is incomplete or unsupported");
        }
        if (c.encryption != null && (c.encryption.salt == null || c.encryption.keyCheck == null || !"AES-256-GCM".equals(c.encryption.algorithm))) {
            throw new RepositoryException("repository config in " + where + " has unsupported encryption settings");
        }
        return c;
    }
}
