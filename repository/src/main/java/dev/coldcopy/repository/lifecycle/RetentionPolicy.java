package dev.coldcopy.repository.lifecycle;

import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.SnapshotKind;
import dev.coldcopy.repository.SnapshotSummary;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.IsoFields;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Applies {@link KeepRules} to the snapshots of one disk. Pure logic: no repository access, times in UTC.
 *
 * <p>Besides the rules, two snapshots are always kept: the disk's newest (whatever its kind), and its
 * newest full or incremental one, because the checkpoint it created is the base of the next incremental
 * and it is the parent that backup carries unchanged ranges forward from. Snapshots named as protected
 * (the parents of backups running right now) are kept too.
 */
public final class RetentionPolicy {
    /** the newest first; equal times by id, which carries random digits: any fixed order will do */
    private static final Comparator<SnapshotSummary> NEWEST_FIRST =
            Comparator.comparing(SnapshotSummary::created).thenComparing(SnapshotSummary::id).reversed();

    private final KeepRules rules;

    public RetentionPolicy(KeepRules rules) {
        this.rules = rules;
    }

    public KeepRules rules() {
        return rules;
    }

    /** What happens to one snapshot, and why it is kept (empty reasons: it is removed). */
    public record Decision(SnapshotSummary snapshot, List<String> reasons) {
        public boolean keep() {
            return !reasons.isEmpty();
        }
    }

    /**
     * @param snapshots every snapshot of one disk, in any order
     * @param protectedIds snapshots that must stay whatever the rules say
     * @return one decision per snapshot, newest first
     */
    public List<Decision> apply(List<SnapshotSummary> snapshots, Set<SnapshotId> protectedIds) {
        List<SnapshotSummary> sorted = new ArrayList<>(snapshots);
        sorted.sort(NEWEST_FIRST);
        Map<SnapshotSummary, List<String>> reasons = new LinkedHashMap<>();
        sorted.forEach(s -> reasons.put(s, new ArrayList<>()));
        if (sorted.isEmpty()) {
            return List.of();
        }
        reasons.get(sorted.get(0)).add("newest");
        sorted.stream().filter(s -> s.kind() != SnapshotKind.DELTA).findFirst()
                .filter(s -> s != sorted.get(0))
                .ifPresent(s -> reasons.get(s).add("base of the next incremental"));
        for (SnapshotSummary s : sorted) {
            if (protectedIds.contains(s.id())) {
                reasons.get(s).add("parent of a running backup");
            }
        }
        keepNewest(sorted, reasons, rules.last(), "last", s -> s.id().value());
        keepNewest(sorted, reasons, rules.hourly(), "hourly", s -> utc(s.created()).withMinute(0).withSecond(0).withNano(0).toString());
        keepNewest(sorted, reasons, rules.daily(), "daily", s -> utc(s.created()).toLocalDate().toString());
        keepNewest(sorted, reasons, rules.weekly(), "weekly", s -> {
            ZonedDateTime t = utc(s.created());
            return t.get(IsoFields.WEEK_BASED_YEAR) + "-W" + t.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR);
        });
        keepNewest(sorted, reasons, rules.monthly(), "monthly", s -> utc(s.created()).getYear() + "-" + utc(s.created()).getMonthValue());
        keepNewest(sorted, reasons, rules.yearly(), "yearly", s -> Integer.toString(utc(s.created()).getYear()));
        rules.within().ifPresent(d -> {
            Instant from = sorted.get(0).created().minus(d);
            for (SnapshotSummary s : sorted) {
                if (!s.created().isBefore(from)) {
                    reasons.get(s).add("within " + d);
                }
            }
        });
        List<Decision> out = new ArrayList<>();
        reasons.forEach((s, r) -> out.add(new Decision(s, List.copyOf(r))));
        return out;
    }

    /**
     * restic's bucket rule: walking from the newest, a snapshot is kept when its period differs from the
     * period of the last one this rule kept, until the rule has kept {@code count} (-1: no limit).
     */
    private static void keepNewest(List<SnapshotSummary> newestFirst, Map<SnapshotSummary, List<String>> reasons,
                                   int count, String rule, Function<SnapshotSummary, String> period) {
        int left = count;
        String lastPeriod = null;
        for (SnapshotSummary s : newestFirst) {
            if (left == 0) {
                return;
            }
            String p = period.apply(s);
            if (!p.equals(lastPeriod)) {
                reasons.get(s).add(rule);
                lastPeriod = p;
                if (left > 0) {
                    left--;
                }
            }
        }
    }

    private static ZonedDateTime utc(Instant t) {
        return t.atZone(ZoneOffset.UTC);
    }
}
