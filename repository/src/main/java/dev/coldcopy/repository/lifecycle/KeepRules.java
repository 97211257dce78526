package dev.coldcopy.repository.lifecycle;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which snapshots of one disk a prune keeps, with restic's meaning: {@code last} keeps the newest N;
 * each period rule keeps the newest snapshot of each of the last N periods (hours, days, ISO weeks,
 * months, years, in UTC) that have a snapshot; {@code within} keeps every snapshot taken within that
 * duration before the disk's newest snapshot. A snapshot is kept when any rule keeps it. A count of
 * 0 means the rule is off; -1 means unlimited (every period).
 */
public record KeepRules(int last, int hourly, int daily, int weekly, int monthly, int yearly, Optional<Duration> within) {
    private static final Pattern DURATION = Pattern.compile("(?:(\\d+)y)?(?:(\\d+)m)?(?:(\\d+)w)?(?:(\\d+)d)?(?:(\\d+)h)?");

    public static final KeepRules NONE = new KeepRules(0, 0, 0, 0, 0, 0, Optional.empty());

    public KeepRules {
        for (int n : new int[] {last, hourly, daily, weekly, monthly, yearly}) {
            if (n < -1) {
                throw new IllegalArgumentException("a keep count is a number of snapshots (or -1 for all), not " + n);
            }
        }
        within = within == null ? Optional.empty() : within;
        if (within.isPresent() && (within.get().isNegative() || within.get().isZero())) {
            throw new IllegalArgumentException("--keep-within must be a positive duration");
        }
    }

    /** true when no rule keeps anything: a prune with these rules would remove all but the newest */
    public boolean isEmpty() {
        return last == 0 && hourly == 0 && daily == 0 && weekly == 0 && monthly == 0 && yearly == 0 && within.isEmpty();
    }

    public KeepRules withLast(int n) {
        return new KeepRules(n, hourly, daily, weekly, monthly, yearly, within);
    }

    public KeepRules withHourly(int n) {
        return new KeepRules(last, n, daily, weekly, monthly, yearly, within);
    }

    public KeepRules withDaily(int n) {
        return new KeepRules(last, hourly, n, weekly, monthly, yearly, within);
    }

    public KeepRules withWeekly(int n) {
        return new KeepRules(last, hourly, daily, n, monthly, yearly, within);
    }

    public KeepRules withMonthly(int n) {
        return new KeepRules(last, hourly, daily, weekly, n, yearly, within);
    }

    public KeepRules withYearly(int n) {
        return new KeepRules(last, hourly, daily, weekly, monthly, n, within);
    }

    public KeepRules withWithin(Duration d) {
        return new KeepRules(last, hourly, daily, weekly, monthly, yearly, Optional.ofNullable(d));
    }

    /**
     * Parses a duration as restic writes it: {@code 1y2m3w4d5h} (years of 365 days, months of 30 days),
     * any part optional but at least one present; also ISO-8601 ({@code P7D}, {@code PT12H}).
     */
    public static Duration parseDuration(String text) {
        String t = text == null ? "" : text.strip();
        if (t.startsWith("P") || t.startsWith("p")) {
            try {
                return Duration.parse(t.toUpperCase());
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("not a duration: '" + text + "' (e.g. 7d, 2w, 1y6m, 36h)");
            }
        }
        Matcher m = DURATION.matcher(t);
        if (t.isEmpty() || !m.matches()) {
            throw new IllegalArgumentException("not a duration: '" + text + "' (e.g. 7d, 2w, 1y6m, 36h)");
        }
        long[] perUnitDays = {365, 30, 7, 1};
        Duration d = Duration.ZERO;
        for (int i = 0; i < 4; i++) {
            if (m.group(i + 1) != null) {
                d = d.plusDays(Long.parseLong(m.group(i + 1)) * perUnitDays[i]);
            }
        }
        if (m.group(5) != null) {
            d = d.plusHours(Long.parseLong(m.group(5)));
        }
        if (d.isZero()) {
            throw new IllegalArgumentException("--keep-within must be a positive duration, not '" + text + "'");
        }
        return d;
    }

    @Override
    public String toString() {
        List<String> parts = new ArrayList<>();
        add(parts, "last", last);
        add(parts, "hourly", hourly);
        add(parts, "daily", daily);
        add(parts, "weekly", weekly);
        add(parts, "monthly", monthly);
        add(parts, "yearly", yearly);
        within.ifPresent(d -> parts.add("within " + d));
        return parts.isEmpty() ? "no keep rule" : String.join(", ", parts);
    }

    private static void add(List<String> parts, String name, int n) {
        if (n != 0) {
            parts.add(name + " " + (n < 0 ? "all" : Integer.toString(n)));
        }
    }
}
