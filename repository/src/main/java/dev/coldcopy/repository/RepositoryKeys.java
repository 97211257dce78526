package dev.coldcopy.repository;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The keys of an encrypted repository, derived from a 32-byte master key (the key file) and the
 * repository's salt, HKDF-style with HMAC-SHA-256: one key encrypts (AES-256-GCM), one addresses chunks
 * (keyed hash), one checks that the right master key was given. The master key never leaves this class.
 */
public final class RepositoryKeys {
    public static final int KEY_LENGTH = 32;
    private static final Logger LOG = LoggerFactory.getLogger(RepositoryKeys.class);
    private static final byte[] ENCRYPTION_INFO = "coldcopy/v1/chunk-encryption".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ADDRESS_INFO = "coldcopy/v1/chunk-address".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CHECK_INFO = "coldcopy/v1/key-check".getBytes(StandardCharsets.US_ASCII);

    private final byte[] encryptionKey;
    private final byte[] addressKey;
    private final byte[] keyCheck;

    private RepositoryKeys(byte[] encryptionKey, byte[] addressKey, byte[] keyCheck) {
        this.encryptionKey = encryptionKey;
        this.addressKey = addressKey;
        this.keyCheck = keyCheck;
    }

    public static RepositoryKeys derive(byte[] masterKey, byte[] salt) {
        if (masterKey.length != KEY_LENGTH) {
            throw new IllegalArgumentException("a master key has " + KEY_LENGTH + " bytes");
        }
        byte[] prk = hmac(salt, masterKey);
        return new RepositoryKeys(expand(prk, ENCRYPTION_INFO), expand(prk, ADDRESS_INFO), expand(prk, CHECK_INFO));
    }

    /**
     * Reads a key file: 32 raw bytes, 64 hex digits or base64 of 32 bytes (surrounding whitespace ignored).
     * Logs one warning when the file is readable by group or others.
     */
    public static byte[] readKeyFile(Path file) throws RepositoryKeyException {
        exposure(file, "can decrypt the repository").ifPresent(LOG::warn);
        byte[] raw;
        try {
            raw = Files.readAllBytes(file);
        } catch (IOException e) {
            String why = e instanceof java.nio.file.NoSuchFileException ? "no such file"
                    : e instanceof java.nio.file.AccessDeniedException ? "permission denied"
                    : e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
            throw new RepositoryKeyException("cannot read key file " + file + ": " + why);
        }
        if (raw.length == KEY_LENGTH) {
            return raw;
        }
        String text = new String(raw, StandardCharsets.US_ASCII).strip();
        try {
            if (text.length() == KEY_LENGTH * 2) {
                return HexFormat.of().parseHex(text);
            }
            byte[] decoded = Base64.getDecoder().decode(text);
            if (decoded.length == KEY_LENGTH) {
                return decoded;
            }
        } catch (IllegalArgumentException e) {
            // fall through to the one message below
        }
        throw new RepositoryKeyException("key file " + file + " must hold a 32-byte key: 32 raw bytes, 64 hex digits or base64");
    }

    /**
     * A one-line warning when a key file can be read by others than its owner, else empty.
     *
     * @param consequence what a reader of the file can do, e.g. "can decrypt the repository"
     */
    public static Optional<String> exposure(Path file, String consequence) {
        Set<PosixFilePermission> mode;
        try {
            mode = Files.getPosixFilePermissions(file);
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty(); // unreadable: reading it fails with its own reason; not POSIX: nothing to say
        }
        boolean group = mode.contains(PosixFilePermission.GROUP_READ);
        boolean others = mode.contains(PosixFilePermission.OTHERS_READ);
        if (!group && !others) {
            return Optional.empty();
        }
        return Optional.of("key file " + file + " is readable by " + (group && others ? "group and others" : group ? "its group" : "others")
                + " (mode " + PosixFilePermissions.toString(mode) + "): whoever can read it " + consequence + "; chmod 600 it");
    }

    /** Writes a new random key file (64 hex digits, mode 0600); fails if the file exists. */
    public static void generateKeyFile(Path file) throws IOException {
        byte[] key = new byte[KEY_LENGTH];
        new SecureRandom().nextBytes(key);
        if (Files.exists(file)) {
            throw new FileAlreadyExistsException(file.toString());
        }
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(file);
        }
        Files.write(file, (HexFormat.of().formatHex(key) + "\n").getBytes(StandardCharsets.US_ASCII),
                StandardOpenOption.TRUNCATE_EXISTING);
        Arrays.fill(key, (byte) 0);
    }

    byte[] encryptionKey() {
        return encryptionKey;
    }

    byte[] addressKey() {
        return addressKey;
    }

    public byte[] keyCheck() {
        return keyCheck.clone();
    }

    public boolean matches(byte[] storedKeyCheck) {
        return MessageDigest.isEqual(keyCheck, storedKeyCheck);
    }

    private static byte[] expand(byte[] prk, byte[] info) {
        byte[] input = Arrays.copyOf(info, info.length + 1);
        input[info.length] = 1;
        return hmac(prk, input);
    }

    static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key.length == 0 ? new byte[KEY_LENGTH] : key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
