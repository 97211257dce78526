package dev.coldcopy.repository.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.SnapshotKind;
import dev.coldcopy.repository.SnapshotSummary;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The keep rules over synthetic snapshot times, against expectations worked out by hand. The times
 * cross hour, day, ISO-week (2026 has 53 ISO weeks; 2027-01-01 still belongs to 2026-W53), month and
 * year boundaries.
 */
class RetentionPolicyTest {
    /** name -> time; A is the oldest, I the newest */
    private static final Map<String, String> TIMES = new LinkedHashMap<>();

    static {
        TIMES.put("A", "2026-01-01T10:00:00Z"); // Thursday, 2026-W01
        TIMES.put("B", "2026-01-01T10:30:00Z"); // same hour and day as A
        TIMES.put("C", "2026-01-01T23:59:00Z"); // same day, last hour
        TIMES.put("D", "2026-01-02T00:00:00Z"); // next day, 2026-W01
        TIMES.put("E", "2026-01-04T12:00:00Z"); // Sunday, still 2026-W01
        TIMES.put("F", "2026-01-05T08:00:00Z"); // Monday, 2026-W02
        TIMES.put("G", "2026-02-01T00:00:00Z"); // Sunday, 2026-W05, February
        TIMES.put("H", "2026-12-31T23:00:00Z"); // Thursday, 2026-W53
        TIMES.put("I", "2027-01-01T01:00:00Z"); // Friday, 2026-W53 (ISO), but year 2027
    }

    static Stream<Arguments> rules() {
        KeepRules none = KeepRules.NONE;
        return Stream.of(
                Arguments.of("last 3", none.withLast(3), "GHI"),
                Arguments.of("last 1 keeps the newest only", none.withLast(1), "I"),
                Arguments.of("last all", none.withLast(-1), "ABCDEFGHI"),
                Arguments.of("hourly 3", none.withHourly(3), "GHI"),
                Arguments.of("hourly 10: B is the newest of 10:xx, A is not", none.withHourly(10), "BCDEFGHI"),
                Arguments.of("daily 4", none.withDaily(4), "FGHI"),
                Arguments.of("daily 10: C is the newest of Jan 1", none.withDaily(10), "CDEFGHI"),
                Arguments.of("weekly 3: H and I share 2026-W53", none.withWeekly(3), "FGI"),
                Arguments.of("weekly all: E is the newest of 2026-W01", none.withWeekly(-1), "EFGI"),
                Arguments.of("monthly 3", none.withMonthly(3), "GHI"),
                Arguments.of("monthly 4: F is the newest of January", none.withMonthly(4), "FGHI"),
                Arguments.of("yearly 2", none.withYearly(2), "HI"),
                Arguments.of("yearly all", none.withYearly(-1), "HI"),
                Arguments.of("within 1d of the newest", none.withWithin(Duration.ofDays(1)), "HI"),
                Arguments.of("within 2h: the boundary is inside", none.withWithin(Duration.ofHours(2)), "HI"),
                Arguments.of("within 119m: the boundary is outside", none.withWithin(Duration.ofMinutes(119)), "I"),
                Arguments.of("within 400d: everything", none.withWithin(Duration.ofDays(400)), "ABCDEFGHI"),
                Arguments.of("union of last 1 and yearly 2 and monthly 4", none.withLast(1).withYearly(2).withMonthly(4), "FGHI"),
                Arguments.of("union of daily 2 and weekly 4", none.withDaily(2).withWeekly(4), "EFGHI"),
                Arguments.of("no rule still keeps the newest", none, "I"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rules")
    void keepsWhatTheRulesSay(String name, KeepRules rules, String expected) {
        List<SnapshotSummary> all = new ArrayList<>();
        TIMES.forEach((n, t) -> all.add(snapshot(n, t, SnapshotKind.INCREMENTAL)));
        assertThat(kept(new RetentionPolicy(rules).apply(all, Set.of()))).isEqualTo(expected);
    }

    @Test
    void orderOfInputDoesNotMatter() {
        List<SnapshotSummary> all = new ArrayList<>();
        TIMES.forEach((n, t) -> all.add(0, snapshot(n, t, SnapshotKind.FULL)));
        assertThat(kept(new RetentionPolicy(KeepRules.NONE.withDaily(4)).apply(all, Set.of()))).isEqualTo("FGHI");
    }

    @Test
    void tiesAreBrokenByIdSoExactlyOneOfTwoEqualTimesIsKept() {
        SnapshotSummary low = summary(new SnapshotId("20260301T120000000Z-000000"), "low", SnapshotKind.FULL);
        SnapshotSummary high = summary(new SnapshotId("20260301T120000000Z-ffffff"), "high", SnapshotKind.FULL);
        List<RetentionPolicy.Decision> d = new RetentionPolicy(KeepRules.NONE.withDaily(1)).apply(List.of(low, high), Set.of());
        assertThat(d).extracting(x -> x.snapshot().vm() + "=" + x.keep()).containsExactly("high=true", "low=false");
    }

    @Test
    void theNewestFullOrIncrementalStaysWhenTheNewestIsADelta() {
        List<SnapshotSummary> all = List.of(
                snapshot("A", TIMES.get("A"), SnapshotKind.FULL),
                snapshot("B", TIMES.get("B"), SnapshotKind.INCREMENTAL),
                snapshot("C", TIMES.get("C"), SnapshotKind.DELTA));
        List<RetentionPolicy.Decision> d = new RetentionPolicy(KeepRules.NONE.withLast(1)).apply(all, Set.of());
        assertThat(kept(d)).isEqualTo("BC");
        assertThat(d.get(1).reasons()).containsExactly("base of the next incremental");
    }

    @Test
    void protectedSnapshotsStay() {
        List<SnapshotSummary> all = new ArrayList<>();
        TIMES.forEach((n, t) -> all.add(snapshot(n, t, SnapshotKind.INCREMENTAL)));
        SnapshotId a = all.get(0).id();
        List<RetentionPolicy.Decision> d = new RetentionPolicy(KeepRules.NONE.withLast(1)).apply(all, Set.of(a));
        assertThat(kept(d)).isEqualTo("AI");
        assertThat(d.get(d.size() - 1).reasons()).containsExactly("parent of a running backup");
    }

    @Test
    void emptyRulesAreRecognised() {
        assertThat(KeepRules.NONE.isEmpty()).isTrue();
        assertThat(KeepRules.NONE.withWithin(Duration.ofHours(1)).isEmpty()).isFalse();
        assertThat(KeepRules.NONE.withYearly(1).isEmpty()).isFalse();
    }

    @Test
    void durationsParseLikeRestic() {
        assertThat(KeepRules.parseDuration("7d")).isEqualTo(Duration.ofDays(7));
        assertThat(KeepRules.parseDuration("2w")).isEqualTo(Duration.ofDays(14));
        assertThat(KeepRules.parseDuration("1y6m")).isEqualTo(Duration.ofDays(365 + 180));
        assertThat(KeepRules.parseDuration("1d12h")).isEqualTo(Duration.ofHours(36));
        assertThat(KeepRules.parseDuration("PT90M")).isEqualTo(Duration.ofMinutes(90));
        assertThatThrownBy(() -> KeepRules.parseDuration("7 days")).hasMessageContaining("not a duration: '7 days'");
        assertThatThrownBy(() -> KeepRules.parseDuration("0d")).hasMessageContaining("positive");
        assertThatThrownBy(() -> KeepRules.parseDuration("")).hasMessageContaining("not a duration");
    }

    private static String kept(List<RetentionPolicy.Decision> decisions) {
        StringBuilder sb = new StringBuilder();
        decisions.stream().filter(RetentionPolicy.Decision::keep).map(d -> d.snapshot().vm()).sorted().forEach(sb::append);
        return sb.toString();
    }

    /** the snapshot's name goes into its vm field, so the test can print what was kept */
    private static SnapshotSummary snapshot(String name, String time, SnapshotKind kind) {
        return summary(SnapshotId.create(Instant.parse(time)), name, kind);
    }

    private static SnapshotSummary summary(SnapshotId id, String name, SnapshotKind kind) {
        Instant created = Instant.parse(id.value().substring(0, 4) + "-" + id.value().substring(4, 6) + "-" + id.value().substring(6, 8)
                + "T" + id.value().substring(9, 11) + ":" + id.value().substring(11, 13) + ":" + id.value().substring(13, 15) + "Z");
        return new SnapshotSummary(id, name, "vda", created, kind, "", 1 << 20, 0, 0, Optional.empty(), null, null);
    }
}
