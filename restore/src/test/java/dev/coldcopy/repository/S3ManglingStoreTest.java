package dev.coldcopy.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.repository.testing.ImageBackup;
import dev.coldcopy.repository.testing.ManglingProxy;
import dev.coldcopy.repository.testing.ManglingProxy.Damage;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.repository.testing.S3ProxyServer;
import dev.coldcopy.repository.testing.StartedCamel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store that does not keep what it is sent is refused before anything is committed: one byte flipped in
 * an upload, with and without the store checking Content-MD5, and a store that keeps the aws-chunked
 * framing of the SDK's default uploads as the object.
 */
class S3ManglingStoreTest {
    @TempDir
    static Path serverDir;
    static S3ProxyServer s3;
    @TempDir
    Path work;
    @RegisterExtension
    final StartedCamel camel = new StartedCamel();

    @BeforeAll
    static void start() throws Exception {
        s3 = S3ProxyServer.start(serverDir, false);
        s3.createBucket("backups");
    }

    @AfterAll
    static void stop() {
        if (s3 != null) {
            s3.close();
        }
    }

    private RepositoryUri uri(ManglingProxy proxy, String prefix, String extra) {
        return RepositoryUri.parse("s3://backups/" + prefix + "?endpoint=" + proxy.endpoint() + "&region=us-east-1" + extra);
    }

    private RepositoryOptions options() {
        return RepositoryOptions.builder().camelContext(camel.context()).parallelism(2)
                .s3Credentials(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY).build();
    }

    @Test
    void aFlippedByteTheStoreCatchesFailsInit() throws Exception {
        try (ManglingProxy proxy = new ManglingProxy(s3.port(), Damage.FLIP_BYTE, p -> true)) {
            assertThatThrownBy(() -> Repository.init(uri(proxy, "flip", ""), options()))
                    .isInstanceOf(RepositoryException.class)
                    .satisfies(e -> assertThat(e.getMessage()).startsWith("refusing s3://backups/flip")
                            .contains("writing a test object failed").doesNotContain("\n"));
            assertThat(proxy.damaged()).isPositive();
        }
        assertThat(objects("flip")).as("no config, no probe left").isEmpty();
    }

    @Test
    void aFlippedByteTheStoreKeepsFailsInitOnItsETag() throws Exception {
        try (ManglingProxy proxy = new ManglingProxy(s3.port(), Damage.FLIP_BYTE_AND_DROP_MD5, p -> true)) {
            assertThatThrownBy(() -> Repository.init(uri(proxy, "etag", ""), options()))
                    .isInstanceOf(RepositoryException.class)
                    .satisfies(e -> assertThat(e.getMessage()).startsWith("refusing s3://backups/etag")
                            .contains("did not keep what was sent").contains("ETag").doesNotContain("\n"));
        }
        assertThat(objects("etag")).isEmpty();
    }

    @Test
    void aStoreKeepingTheChunkedFramingIsRefusedWithTheSettingToChange() throws Exception {
        // the SDK's own defaults (what coldcopy used to send everywhere), ETag check off: the read-back catches it
        try (ManglingProxy proxy = new ManglingProxy(s3.port(), Damage.KEEP_CHUNKED_FRAMING, p -> true)) {
            assertThatThrownBy(() -> Repository.init(uri(proxy, "framing",
                    "&checksum=when-supported&chunkedEncoding=true&verify=content-md5"), options()))
                    .isInstanceOf(RepositoryException.class)
                    .satisfies(e -> assertThat(e.getMessage()).startsWith("refusing s3://backups/framing")
                            .contains("aws-chunked").contains("checksum=when-required&chunkedEncoding=false").doesNotContain("\n"));
            assertThat(proxy.damaged()).isPositive();
            // with the defaults coldcopy documents for non-AWS endpoints the same store works
            try (Repository repo = Repository.init(uri(proxy, "framing2", ""), options())) {
                assertThat(repo.backend().get(RepositoryConfig.KEY)).isEqualTo(repo.config().toJson());
            }
        }
    }

    @Test
    void aChunkMangledDuringTheFirstBackupFailsItAndLeavesNoManifest() throws Exception {
        Path image = QemuImages.createQcow2(work.resolve("disk.qcow2"), 8L << 20);
        QemuImages.writeRandom(image, 0, 3 << 20, new Random(3));
        try (ManglingProxy proxy = new ManglingProxy(s3.port(), Damage.FLIP_BYTE_AND_DROP_MD5, p -> p.contains("/chunks/"));
             Repository repo = Repository.openOrInit(uri(proxy, "backup", ""), options())) {
            assertThatThrownBy(() -> ImageBackup.full(repo, image, "vm1", "vda"))
                    .isInstanceOf(RepositoryException.class)
                    .hasMessageContaining("did not keep what was sent");
            assertThat(repo.snapshotIds()).isEmpty();
        }
        try (Stream<Path> files = Files.walk(s3.bucketDir("backups"))) {
            assertThat(files.map(Path::toString)).noneMatch(p -> p.contains("snapshots"));
        }
    }

    private java.util.List<String> objects(String prefix) throws Exception {
        Path dir = s3.bucketDir("backups").resolve(prefix);
        if (!Files.exists(dir)) {
            return java.util.List.of();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).map(Path::toString).toList();
        }
    }
}
