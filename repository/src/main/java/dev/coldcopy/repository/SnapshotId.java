package dev.coldcopy.repository;

import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * A snapshot's id: creation time in UTC to the millisecond and 6 random hex digits, e.g.
 * {@code 20261125T203627123Z-3fa1c2}. Ids of one disk sort in creation order.
 */
public record SnapshotId(String value) implements Comparable<SnapshotId> {
    private static final Pattern FORMAT = Pattern.compile("[0-9]{8}T[0-9]{9}Z-[0-9a-f]{6}");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'").withZone(ZoneOffset.UTC);
    private static final SecureRandom RANDOM = new SecureRandom();

    public SnapshotId {
        if (value == null || !FORMAT.matcher(value).matches()) {
            throw new IllegalArgumentException("not a snapshot id (expected like 20261125T203627123Z-3fa1c2): " + value);
        }
    }

    public static SnapshotId parse(String value) {
        return new SnapshotId(value == null ? null : value.strip());
    }

    public static SnapshotId create(Instant time) {
        byte[] r = new byte[3];
        RANDOM.nextBytes(r);
        return new SnapshotId(TIME.format(time) + "-" + HexFormat.of().formatHex(r));
    }

    public static boolean isValid(String value) {
        return value != null && FORMAT.matcher(value).matches();
    }

    @Override
    public int compareTo(SnapshotId o) {
        return value.compareTo(o.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
