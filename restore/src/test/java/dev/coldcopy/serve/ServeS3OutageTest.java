package dev.coldcopy.serve;

import static dev.coldcopy.nbd.protocol.NbdProtocol.NBD_EIO;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.coldcopy.nbd.protocol.NbdClient;
import dev.coldcopy.nbd.protocol.NbdClientOptions;
import dev.coldcopy.nbd.protocol.NbdServerErrorException;
import dev.coldcopy.nbd.protocol.NbdUri;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.repository.testing.ImageBackup;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.repository.testing.S3ProxyServer;
import dev.coldcopy.repository.testing.StartedCamel;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * S3 goes away while a client is connected and reading: the ranges the server cannot fetch are EIO (never
 * other bytes), cached ones keep reading, and once S3 is back the same connection reads everything again.
 */
class ServeS3OutageTest {
    static final long MIB = 1024 * 1024;

    @TempDir
    Path work;
    @RegisterExtension
    final StartedCamel camel = new StartedCamel();

    @Test
    void readsFailWithEioWhileS3IsDownAndRecoverWhenItIsBack() throws Exception {
        Path image = ServeTest.makeImage(work.resolve("disk.qcow2"));
        Path raw = work.resolve("disk.raw");
        QemuImages.convert(image, raw, "raw");
        try (S3ProxyServer s3 = S3ProxyServer.start(Files.createDirectories(work.resolve("s3")))) {
            s3.createBucket("backups");
            RepositoryOptions opts = RepositoryOptions.builder().camelContext(camel.context()).parallelism(2)
                    .s3Credentials(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY).build();
            try (Repository repo = Repository.init(s3.repositoryUri("backups", "cc"), opts)) {
                SnapshotManifest m = repo.load(ImageBackup.full(repo, image, "vm1", "vda"));
                Path socket = work.resolve("nbd.sock");
                try (ChunkCache cache = new ChunkCache(repo, 16 * MIB, 2);
                     NbdServer server = NbdServer.start(ServedExport.of(m, cache), new ServeAddress.Unix(socket));
                     NbdClient client = NbdClient.connect(NbdUri.unix(socket, ""),
                             NbdClientOptions.builder().ioTimeout(Duration.ofMinutes(2)).build())) {
                    assertThat(client.read(30 * MIB, 64 * 1024)).isEqualTo(expected(raw, 30 * MIB, 64 * 1024));

                    s3.stop();
                    // a chunk never fetched: EIO for that read, and the connection stays up
                    NbdServerErrorException down = catchThrowableOfType(() -> client.read(2 * MIB, 64 * 1024), NbdServerErrorException.class);
                    assertThat(down).as("a read while S3 is down").isNotNull();
                    assertThat(down.error()).isEqualTo(NBD_EIO);
                    down = catchThrowableOfType(() -> client.read(16 * MIB, 4096), NbdServerErrorException.class);
                    assertThat(down).isNotNull();
                    assertThat(down.error()).isEqualTo(NBD_EIO);
                    // what the cache holds still reads, and right
                    assertThat(client.read(30 * MIB, 64 * 1024)).isEqualTo(expected(raw, 30 * MIB, 64 * 1024));

                    s3.start();
                    assertThat(client.read(2 * MIB, 64 * 1024)).isEqualTo(expected(raw, 2 * MIB, 64 * 1024));
                    assertThat(client.read(16 * MIB, 4096)).isEqualTo(expected(raw, 16 * MIB, 4096));
                    assertThat(server.clients()).isEqualTo(1);
                }
            }
        }
    }

    private static byte[] expected(Path raw, long offset, int length) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(length);
        try (FileChannel ch = FileChannel.open(raw)) {
            while (b.hasRemaining()) {
                ch.read(b, offset + b.position());
            }
        }
        return b.array();
    }
}
