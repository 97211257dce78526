package dev.coldcopy.nbd.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.nbd.testing.NbdkitServer;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.testing.Tools;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Unaligned writes, write-zeroes and trims against a server that refuses any request not aligned to its
 * 4 KiB minimum block size (nbdkit's blocksize-policy filter with error policy): the client does
 * read-modify-write for partial blocks, so every write lands and nothing around it changes.
 */
class UnalignedWriteTest {
    private static final int SIZE = 1024 * 1024 + 8192;

    @TempDir
    Path dir;

    @Test
    void unalignedWritesAndZeroesLandExactlyWhereAsked() throws Exception {
        Path file = dir.resolve("disk.raw");
        byte[] expected = new byte[SIZE];
        new Random(9).nextBytes(expected);
        Files.write(file, expected);
        try (NbdkitServer server = NbdkitServer.builder("file").filter("blocksize-policy").param("file=" + file)
                .param("blocksize-minimum=4096").param("blocksize-error-policy=error").start();
             NbdClient client = NbdClient.connect(server.uri(), NbdClientOptions.defaults())) {
            assertThat(client.info().blockSize().minimum()).isEqualTo(4096);
            Random rnd = new Random(10);
            long[][] writes = {{5000, 100}, {4095, 2}, {8192, 4097}, {12288 + 7, 3 * 4096}, {SIZE - 10, 10},
                {SIZE - 5000, 4000}, {0, 1}, {100_000, 200_000}};
            for (long[] w : writes) {
                byte[] data = new byte[(int) w[1]];
                rnd.nextBytes(data);
                client.write(w[0], ByteBuffer.wrap(data));
                System.arraycopy(data, 0, expected, (int) w[0], data.length);
            }
            long[][] zeroes = {{30_001, 10}, {40_000, 20_000}, {SIZE - 3000, 3000}};
            for (long[] z : zeroes) {
                client.writeZeroes(z[0], z[1]);
                Arrays.fill(expected, (int) z[0], (int) (z[0] + z[1]), (byte) 0);
            }
            client.trim(70_001, 9000); // advisory: only whole blocks inside go to the server; reads stay valid
            byte[] trimmed = client.read(70_001, 9000);
            System.arraycopy(trimmed, 0, expected, 70_001, 9000);
            client.flush();
            assertThat(QemuImages.sha256(client.read(0, SIZE))).isEqualTo(QemuImages.sha256(expected));
            Path copy = dir.resolve("copy.raw");
            Tools.run(Duration.ofMinutes(1), List.of("nbdcopy", server.uri().toString(), copy.toString()));
            assertThat(QemuImages.sha256(copy)).isEqualTo(QemuImages.sha256(expected));
        }
    }

    @Test
    void aFailedReadOfAReadModifyWriteSaysItServesAnUnalignedWrite() throws Exception {
        Path file = dir.resolve("eio.raw");
        Files.write(file, new byte[SIZE]);
        try (NbdkitServer server = NbdkitServer.builder("file").filter("blocksize-policy").filter("error")
                .param("file=" + file).param("blocksize-minimum=4096").param("blocksize-error-policy=error")
                .param("error-pread=EIO").param("error-pread-rate=100%").start();
             NbdClient client = NbdClient.connect(server.uri(), NbdClientOptions.defaults())) {
            assertThatThrownBy(() -> client.write(5000, ByteBuffer.wrap(new byte[100])))
                    .isInstanceOf(NbdServerErrorException.class)
                    .hasMessageStartingWith("the read of a read-modify-write for the unaligned write of 100 bytes at offset 5000")
                    .hasMessageContaining("NBD_CMD_READ at offset 4096").hasMessageContaining("EIO");
            client.write(4096, ByteBuffer.wrap(new byte[4096])); // aligned writes need no read and still work
        }
    }
}
