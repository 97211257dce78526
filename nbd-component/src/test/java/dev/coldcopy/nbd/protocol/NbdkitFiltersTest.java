package dev.coldcopy.nbd.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.nbd.camel.NbdinfoMap;
import dev.coldcopy.nbd.testing.NbdkitServer;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.testing.Tools;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Exports behind nbdkit filters that advertise a maximum block size of 0xFFFFFFFF (no limit) or a
 * minimum above 1: the client connects, maps them exactly as {@code nbdinfo --map} does and reads the
 * bytes {@code nbdcopy} reads.
 */
class NbdkitFiltersTest {
    private static final int MiB = 1024 * 1024;
    private static final long SIZE = 8L * MiB;

    @TempDir
    Path dir;

    /** Random data, explicit zeroes, more data, then a hole to the end. */
    private Path sparseFile() throws IOException {
        Path file = dir.resolve("disk.raw");
        Random rnd = new Random(16);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(SIZE);
            byte[] data = new byte[MiB];
            rnd.nextBytes(data);
            f.seek(0);
            f.write(data);
            f.seek(2L * MiB);
            f.write(new byte[MiB]);
            f.seek(5L * MiB);
            f.write(data, 0, 64 * 1024);
        }
        return file;
    }

    @ParameterizedTest(name = "--filter={0} {1}")
    @CsvSource(delimiter = '|', value = {
        "cow|",
        "cache|",
        "blocksize|",
        "blocksize|minblock=4096 maxdata=65536",
        "swab|",
        "truncate|truncate=8389609",
    })
    void filterExportMapsAndReadsLikeNbdinfoAndNbdcopy(String filter, String params) throws Exception {
        NbdkitServer.Builder builder = NbdkitServer.builder("file").filter(filter).param("file=" + sparseFile());
        if (params != null) {
            for (String p : params.split(" ")) {
                builder.param(p);
            }
        }
        try (NbdkitServer server = builder.start()) {
            String uri = server.uri().toString();
            String expectedMap = Tools.run(Duration.ofMinutes(1), List.of("nbdinfo", "--map", uri));
            Path copied = dir.resolve("nbdcopy.raw");
            Tools.run(Duration.ofMinutes(1), List.of("nbdcopy", uri, copied.toString()));

            NbdClientOptions options = NbdClientOptions.builder().metaContexts(MetaContexts.BASE_ALLOCATION).build();
            try (NbdClient client = NbdClient.connect(server.uri(), options)) {
                assertThat(client.size()).isEqualTo(Files.size(copied));
                List<Extent> extents = NbdinfoMap.merge(client.blockStatus(MetaContexts.BASE_ALLOCATION, 0, client.size()));
                assertThat(NbdinfoMap.toText(MetaContexts.BASE_ALLOCATION, extents)).isEqualTo(expectedMap);
                byte[] all = client.read(0, (int) client.size());
                assertThat(QemuImages.sha256(all)).isEqualTo(QemuImages.sha256(copied));
                if (params == null && !filter.equals("truncate")) {
                    assertThat(client.info().blockSize().maximum()).as("these filters say: no maximum").isEqualTo(BlockSize.NO_MAXIMUM);
                }
            }
        }
    }
}
