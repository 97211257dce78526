package dev.coldcopy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.service.ServiceHarness;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** prune and unlock as a user types them: refusal without a rule, dry run, the lines, --json, restores after. */
class PruneCommandTest {
    static final long MIB = 1024 * 1024;

    @TempDir
    Path dir;

    @Test
    void pruneFromTheCommandLine() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Path disk = QemuImages.createQcow2(images.resolve("web.qcow2"), 16 * MIB);
        String repo = "file:" + dir.resolve("repo");
        List<String> ids = new ArrayList<>();
        List<Path> states = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ServiceHarness.writeRandom(disk, i * 2 * MIB, (int) MIB, i, dir);
            CliRun b = CliRun.coldcopy("backup", "--repo", repo, "--vm", "web", "--disk", "vda=" + disk, "--allow-root", images.toString(),
                    "-Dcoldcopy.home=" + dir.resolve("home"));
            assertThat(b.exit()).as(b.err()).isZero();
            ids.add(b.out().split(" ")[1]);
            states.add(QemuImages.convertToRaw(disk, dir.resolve("state" + i + ".raw")));
        }

        CliRun refused = CliRun.coldcopy("prune", "--repo", repo);
        assertThat(refused.exit()).isNotZero();
        assertThat(refused.err()).contains("no keep rule given");

        CliRun badRule = CliRun.coldcopy("prune", "--repo", repo, "--keep-within", "7 days");
        assertThat(badRule.exit()).isNotZero();
        assertThat(badRule.err()).contains("not a duration: '7 days'");

        CliRun dry = CliRun.coldcopy("prune", "--repo", repo, "--keep-last", "2", "--dry-run");
        assertThat(dry.exit()).as(dry.err()).isZero();
        assertThat(dry.out()).contains("web/vda: would keep 2, would remove 2 (" + ids.get(1) + " " + ids.get(0) + ")")
                .containsPattern("would remove 2 snapshots and \\d+ chunks, would free");
        assertThat(CliRun.coldcopy("snapshots", "--repo", repo).out().lines().count()).isEqualTo(1 + 4);

        CliRun prune = CliRun.coldcopy("prune", "--repo", repo, "--keep-last", "2", "--json");
        assertThat(prune.exit()).as(prune.err()).isZero();
        JsonNode json = new ObjectMapper().readTree(prune.out());
        assertThat(json.path("snapshotsRemoved").asInt()).isEqualTo(2);
        assertThat(json.path("snapshotsKept").asInt()).isEqualTo(2);
        assertThat(json.path("chunksMissing").asInt()).isZero();
        assertThat(json.path("disks").get(0).path("removed")).hasSize(2);

        CliRun verify = CliRun.coldcopy("verify", "--repo", repo);
        assertThat(verify.exit()).as(verify.out() + verify.err()).isZero();
        for (int i = 2; i < 4; i++) {
            Path out = dir.resolve("out" + i + ".qcow2");
            CliRun restore = CliRun.coldcopy("restore", "--repo", repo, "--vm", "web", "--disk", "vda", "--snapshot", ids.get(i),
                    "--output", out.toString());
            assertThat(restore.exit()).as(restore.err()).isZero();
            assertThat(dev.coldcopy.testing.Tools.run(java.time.Duration.ofMinutes(1),
                    List.of("qemu-img", "compare", "-f", "qcow2", "-F", "raw", out.toString(), states.get(i).toString())))
                    .contains("Images are identical");
        }

        CliRun unlock = CliRun.coldcopy("unlock", "--repo", repo);
        assertThat(unlock.exit()).isZero();
        assertThat(unlock.out()).contains("no lock removed");
    }
}
