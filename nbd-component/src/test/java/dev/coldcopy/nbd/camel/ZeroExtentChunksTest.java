package dev.coldcopy.nbd.camel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.nbd.protocol.MetaContexts;
import dev.coldcopy.nbd.testing.NbdkitServer;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.nbd.testing.QemuNbdServer;
import dev.coldcopy.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's promise: ranges base:allocation flags ZERO are never read. A qcow2 whose allocated cluster
 * holds 4 KiB of data and then a zeroed tail makes qemu-nbd report a small ZERO extent right after a DATA one.
 */
class ZeroExtentChunksTest {
    private static final long MiB = 1024 * 1024;

    @TempDir
    Path dir;

    @Test
    void noChunkReadOverlapsARangeNbdinfoFlagsZero() throws Exception {
        // metadata preallocation: every cluster is allocated, so the unwritten tail of a cluster (a hole in the
        // file) is reported as ZERO without HOLE (flags 2) right after the data written before it
        Path image = dir.resolve("z.qcow2");
        Tools.run(Duration.ofMinutes(1), List.of("qemu-img", "create", "-q", "-f", "qcow2", "-o", "preallocation=metadata",
                image.toString(), String.valueOf(16 * MiB)));
        QemuImages.io(image, "write -P 0xab 7M 4k", "write -P 0xcd 7232k 4k", "write -P 0xef 9M 132k");
        try (QemuNbdServer server = QemuNbdServer.builder(image).shared(4).start()) {
            List<long[]> zeroRanges = new ArrayList<>();
            String map = Tools.run(Duration.ofMinutes(1), List.of("nbdinfo", "--map", server.uri().toString()));
            for (String line : map.lines().toList()) {
                String[] f = line.trim().split("\\s+");
                if ((Integer.parseInt(f[2]) & 2) != 0) {
                    zeroRanges.add(new long[] {Long.parseLong(f[0]), Long.parseLong(f[0]) + Long.parseLong(f[1])});
                }
            }
            // the shape the report describes: a zero range that is not a hole, just after data
            assertThat(map).containsPattern("(?m)^\\s*7344128\\s+61440\\s+2\\s+zero$");

            NbdConfiguration config = new NbdConfiguration();
            config.setZeroDetect(false); // what the plan reads, not what detection fixes afterwards
            List<NbdChunk> chunks = new ArrayList<>();
            try (NbdChunkIterator it = NbdConnector.openChunks(server.uri(), config, MetaContexts.BASE_ALLOCATION, false)) {
                it.forEachRemaining(chunks::add);
            }
            long covered = 0;
            for (NbdChunk c : chunks) {
                covered += c.length();
                if (c.kind() != NbdChunkKind.DATA) {
                    continue;
                }
                for (long[] z : zeroRanges) {
                    assertThat(c.offset() < z[1] && z[0] < c.end())
                            .as("DATA chunk %s overlaps ZERO range [%d, %d)", c, z[0], z[1]).isFalse();
                }
            }
            assertThat(covered).isEqualTo(16 * MiB);

            // and on the wire: nbdkit's log filter in front of the same qemu-nbd records every read request
            Path log = dir.resolve("reads.log");
            try (NbdkitServer proxy = NbdkitServer.builder("nbd").filter("log").param("logfile=" + log)
                    .param("socket=" + server.uri().socket()).param("export=" + server.uri().exportName()).readOnly(true).start();
                 NbdChunkIterator it = NbdConnector.openChunks(proxy.uri(), new NbdConfiguration(), MetaContexts.BASE_ALLOCATION, false)) {
                it.forEachRemaining(c -> { });
            }
            List<long[]> reads = new ArrayList<>();
            Matcher m = Pattern.compile("Read id=\\d+ offset=0x([0-9a-f]+) count=0x([0-9a-f]+)").matcher(Files.readString(log));
            while (m.find()) {
                long offset = Long.parseLong(m.group(1), 16);
                reads.add(new long[] {offset, offset + Long.parseLong(m.group(2), 16)});
            }
            assertThat(reads).as("read requests logged").isNotEmpty();
            for (long[] r : reads) {
                for (long[] z : zeroRanges) {
                    assertThat(r[0] < z[1] && z[0] < r[1]).as("read [%d, %d) overlaps ZERO range [%d, %d)", r[0], r[1], z[0], z[1])
                            .isFalse();
                }
            }
        }
    }
}
