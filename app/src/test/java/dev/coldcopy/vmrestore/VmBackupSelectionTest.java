package dev.coldcopy.vmrestore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** A time means the whole moment it names, at the precision written (pure logic). */
class VmBackupSelectionTest {

    @Test
    void aTimeCoversItsWholeSecondMinuteOrDay() {
        assertThat(VmBackupSelection.time("2026-12-02T14:30:17Z")).isEqualTo(Instant.parse("2026-12-02T14:30:17.999999999Z"));
        assertThat(VmBackupSelection.time("2026-12-02T14:30:17.469Z")).isEqualTo(Instant.parse("2026-12-02T14:30:17.469Z"));
        assertThat(VmBackupSelection.time("2026-12-02T14:30:17")).isEqualTo(Instant.parse("2026-12-02T14:30:17.999999999Z"));
        assertThat(VmBackupSelection.time("2026-12-02T14:30")).isEqualTo(Instant.parse("2026-12-02T14:30:59.999999999Z"));
        assertThat(VmBackupSelection.time("2026-12-02")).isEqualTo(Instant.parse("2026-12-02T23:59:59.999999999Z"));
    }

    @Test
    void anythingElseIsRefusedWithTheFormsAllowed() {
        assertThatThrownBy(() -> VmBackupSelection.time("yesterday")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not latest, a VM backup id or a time");
        assertThatThrownBy(() -> new VmBackupSelection("web", " ")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--snapshot is empty: give latest, a VM backup id or a time");
    }
}
