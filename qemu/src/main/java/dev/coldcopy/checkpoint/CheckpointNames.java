package dev.coldcopy.checkpoint;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Collection;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * coldcopy's checkpoint bitmap names: {@code coldcopy.<repoId>.<yyyyMMdd'T'HHmmssSSS'Z'>}, e.g.
 * {@code coldcopy.3f9a1c07d2e4.20261125T203000123Z}.
 * <ul>
 * <li>recognisable: the {@value #PREFIX} prefix marks the bitmaps coldcopy may remove — no other bitmap is
 * ever removed;</li>
 * <li>per repository: the same disk backed up into two repositories keeps two independent chains;</li>
 * <li>sortable: within one repository the names sort by creation time (fixed-width UTC timestamp).</li>
 * </ul>
 * qemu accepts up to 1023 bytes of any characters for a bitmap name; this alphabet ({@code [a-z0-9.TZ]})
 * is also safe in NBD context names ({@code qemu:dirty-bitmap:NAME}), command lines and file names.
 */
public final class CheckpointNames {

    public static final String PREFIX = "coldcopy.";
    private static final Pattern REPO_ID = Pattern.compile("[a-z0-9]{1,32}");
    private static final Pattern NAME = Pattern.compile("coldcopy\\.([a-z0-9]{1,32})\\.(\\d{8}T\\d{9}Z)");
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'")
            .withZone(ZoneOffset.UTC);

    private CheckpointNames() {
    }

    /** A short stable id for a repository URI: the first 12 hex digits of its SHA-256. */
    public static String repositoryId(String repositoryUri) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(repositoryUri.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String checkRepositoryId(String repositoryId) {
        if (repositoryId == null || !REPO_ID.matcher(repositoryId).matches()) {
            throw new IllegalArgumentException("repository id must match " + REPO_ID.pattern() + ": " + repositoryId);
        }
        return repositoryId;
    }

    public static String name(String repositoryId, Instant time) {
        return PREFIX + checkRepositoryId(repositoryId) + "." + STAMP.format(time);
    }

    /** A new name for now; if one with that millisecond exists already, the next free millisecond. */
    public static String next(String repositoryId, Clock clock, Collection<String> existing) {
        Instant t = clock.instant();
        String candidate = name(repositoryId, t);
        while (existing.contains(candidate)) {
            t = t.plusMillis(1);
            candidate = name(repositoryId, t);
        }
        return candidate;
    }

    /** Made by coldcopy (any repository)? */
    public static boolean isColdcopy(String bitmapName) {
        return NAME.matcher(bitmapName).matches();
    }

    /** Made by coldcopy for this repository? */
    public static boolean belongsTo(String bitmapName, String repositoryId) {
        return repositoryIdOf(bitmapName).filter(repositoryId::equals).isPresent();
    }

    public static Optional<String> repositoryIdOf(String bitmapName) {
        Matcher m = NAME.matcher(bitmapName);
        return m.matches() ? Optional.of(m.group(1)) : Optional.empty();
    }

    public static Optional<Instant> timeOf(String bitmapName) {
        Matcher m = NAME.matcher(bitmapName);
        return m.matches() ? Optional.of(Instant.from(STAMP.parse(m.group(2)))) : Optional.empty();
    }
}
