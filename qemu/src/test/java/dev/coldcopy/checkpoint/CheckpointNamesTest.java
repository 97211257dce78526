package dev.coldcopy.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import org.junit.jupiter.api.Test;

class CheckpointNamesTest {

    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-25T20:30:00.123Z"), ZoneOffset.UTC);

    @Test
    void namesAreRecognisablePerRepositoryAndSortByTime() {
        String a = CheckpointNames.name("r1", Instant.parse("2026-11-25T20:30:00.123Z"));
        String b = CheckpointNames.name("r1", Instant.parse("2026-11-25T20:30:01.000Z"));
        assertThat(a).isEqualTo("coldcopy.r1.20261125T203000123Z");
        assertThat(a.compareTo(b)).isNegative();
        assertThat(CheckpointNames.isColdcopy(a)).isTrue();
        assertThat(CheckpointNames.belongsTo(a, "r1")).isTrue();
        assertThat(CheckpointNames.belongsTo(a, "r2")).isFalse();
        assertThat(CheckpointNames.isColdcopy("libvirt-cp1")).isFalse();
        assertThat(CheckpointNames.timeOf(a)).contains(Instant.parse("2026-11-25T20:30:00.123Z"));
        assertThat(CheckpointNames.next("r1", CLOCK, List.of(a))).isEqualTo("coldcopy.r1.20261125T203000124Z");
        assertThat(CheckpointNames.repositoryId("file:/backups")).hasSize(12).matches("[0-9a-f]+")
                .isEqualTo(CheckpointNames.repositoryId("file:/backups"))
                .isNotEqualTo(CheckpointNames.repositoryId("s3://bucket/x"));
    }
}
