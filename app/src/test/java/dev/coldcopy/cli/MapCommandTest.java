package dev.coldcopy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coldcopy.nbd.testing.QemuImages;
import dev.coldcopy.nbd.testing.QemuNbdServer;
import dev.coldcopy.nbd.testing.Tools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code coldcopy map} prints what {@code nbdinfo --map} prints, for the same qemu-nbd export. */
class MapCommandTest {

    @TempDir
    Path tmp;

    static CliRun coldcopy(String... args) {
        return CliRun.coldcopy(args);
    }

    static String nbdinfo(String... args) {
        List<String> cmd = new ArrayList<>(List.of("nbdinfo"));
        cmd.addAll(List.of(args));
        return Tools.run(Duration.ofMinutes(1), cmd);
    }

    /** Data before the bitmap, then data, zeroes and a write-zeroes over old data after it. */
    Path image() {
        Path img = QemuImages.createQcow2(tmp.resolve("disk.qcow2"), 64L << 20);
        QemuImages.qemuIo(img, "qcow2", "write -P 0xab 0 1M", "write -z 4M 1M", "write -P 0x11 30M 3M");
        QemuImages.addBitmap(img, "b1", false);
        QemuImages.qemuIo(img, "qcow2", "write -P 0xcd 8M 64k", "write -z 2M 128k", "write -P 0 20M 64k",
                "write -z 31M 512k");
        return img;
    }

    @Test
    void textAndJsonEqualNbdinfoForAllocationAndDirtyBitmap() throws Exception {
        try (QemuNbdServer server = QemuNbdServer.builder(image()).bitmap("b1").start()) {
            String uri = server.uri().toString();
            ObjectMapper json = new ObjectMapper();

            CliRun base = coldcopy("map", uri);
            assertThat(base.exit()).as(base.err()).isZero();
            assertThat(base.out()).isEqualTo(nbdinfo("--map", uri)).contains("hole,zero").contains("data");

            CliRun dirty = coldcopy("map", uri, "--context", "qemu:dirty-bitmap:b1");
            assertThat(dirty.exit()).as(dirty.err()).isZero();
            assertThat(dirty.out()).isEqualTo(nbdinfo("--map=qemu:dirty-bitmap:b1", uri)).contains("dirty").contains("clean");

            CliRun baseJson = coldcopy("map", uri, "--json");
            assertThat(json.readTree(baseJson.out())).isEqualTo(json.readTree(nbdinfo("--map", "--json", uri)));
            CliRun dirtyJson = coldcopy("map", "--json", "--context=qemu:dirty-bitmap:b1", uri);
            assertThat(json.readTree(dirtyJson.out()))
                    .isEqualTo(json.readTree(nbdinfo("--map=qemu:dirty-bitmap:b1", "--json", uri)));
            assertThat(dirtyJson.out()).as("same layout too").isEqualTo(nbdinfo("--map=qemu:dirty-bitmap:b1", "--json", uri));
        }
    }

    @Test
    void allocationDepthOfABackingChainEqualsNbdinfo() {
        Path base = QemuImages.createQcow2(tmp.resolve("base.qcow2"), 16L << 20);
        QemuImages.writePattern(base, 1, 0, 1 << 20);
        Path top = tmp.resolve("top.qcow2");
        Tools.run(Duration.ofMinutes(1), List.of("qemu-img", "create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "qcow2",
                top.toString()));
        QemuImages.writePattern(top, 3, 4 << 20, 1 << 20);
        try (QemuNbdServer server = QemuNbdServer.builder(top).arg("--allocation-depth").start()) {
            String uri = server.uri().toString();
            CliRun r = coldcopy("map", uri, "--context", "qemu:allocation-depth");
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(r.out()).isEqualTo(nbdinfo("--map=qemu:allocation-depth", uri))
                    .contains("backing depth 2").contains("local").contains("absent");
        }
    }

    @Test
    void missingExportOrContextFailsWithOneLine() {
        try (QemuNbdServer server = QemuNbdServer.builder(image()).start()) {
            CliRun missing = coldcopy("map", server.uri("nope").toString());
            assertThat(missing.exit()).isNotZero();
            assertThat(missing.err()).startsWith("coldcopy map: ").contains("nope").hasLineCount(1);
            assertThat(missing.out()).isEmpty();

            CliRun context = coldcopy("map", server.uri().toString(), "--context", "qemu:dirty-bitmap:b1");
            assertThat(context.exit()).isNotZero();
            assertThat(context.err()).startsWith("coldcopy map: ")
                    .contains("does not offer meta context 'qemu:dirty-bitmap:b1'").hasLineCount(1);

            CliRun badUri = coldcopy("map", "http://example.invalid/x");
            assertThat(badUri.exit()).isNotZero();
            assertThat(badUri.err()).startsWith("coldcopy map: ").hasLineCount(1);
        }
    }
}
