package dev.coldcopy.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.repository.backend.S3Backend;
import dev.coldcopy.repository.testing.ImageBackup;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.repository.testing.S3ProxyServer;
import dev.coldcopy.restore.RestoreFormat;
import dev.coldcopy.restore.RestoreRequest;
import dev.coldcopy.restore.Restorer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The S3 server goes away in the middle of a backup: no snapshot appears, and the retry resumes. */
class S3FaultTest {
    private static final long MIB = 1024 * 1024;

    @TempDir
    Path work;
    S3ProxyServer s3;

    @AfterEach
    void stop() {
        if (s3 != null) {
            s3.close();
        }
    }

    @Test
    void serverStoppedMidBackupLeavesNoManifestAndRetrySkipsStoredChunks() throws Exception {
        s3 = S3ProxyServer.start(work.resolve("s3"));
        s3.createBucket("bkt1");
        Path image = QemuImages.createQcow2(work.resolve("disk.qcow2"), 48 * MIB);
        QemuImages.writeRandom(image, 0, (int) (40 * MIB), new Random(1));
        Path raw = work.resolve("disk.raw");
        QemuImages.convert(image, raw, "raw");
        byte[] content = Files.readAllBytes(raw);
        RepositoryUri uri = s3.repositoryUri("bkt1", "repo");
        try (DefaultCamelContext camel = new DefaultCamelContext()) {
            camel.start();
            RepositoryOptions opts = RepositoryOptions.builder().camelContext(camel)
                    .s3Credentials(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY).parallelism(2).build();
            SnapshotHeader header = ImageBackup.header("vm", "vda", image, SnapshotKind.FULL, null);
            long storedBeforeOutage;
            try (Repository repo = Repository.init(uri, opts)) {
                SnapshotWriter w = repo.newSnapshot(header, Optional.empty());
                w.putData(0, java.util.Arrays.copyOfRange(content, 0, (int) (20 * MIB)), (int) (20 * MIB));
                w.awaitStored();
                storedBeforeOutage = repo.backend().putCount() - 3; // minus the config object, the store probe and the backup's lock
                assertThat(storedBeforeOutage).isEqualTo(5);
                s3.stop();
                assertThatThrownBy(() -> {
                    w.putData(20 * MIB, java.util.Arrays.copyOfRange(content, (int) (20 * MIB), (int) (40 * MIB)), (int) (20 * MIB));
                    w.putZero(40 * MIB, 8 * MIB);
                    w.commit(BackupStatistics.none());
                }).isInstanceOf(RepositoryException.class)
                        .hasMessageContaining("chunk")
                        .satisfies(e -> assertThat(e.getMessage()).doesNotContain(S3ProxyServer.SECRET_KEY));
                w.abort();
            }
            s3.start();
            try (Repository repo = Repository.open(uri, opts)) {
                assertThat(repo.snapshotIds()).as("no manifest after the failed backup").isEmpty();
                SnapshotId id = ImageBackup.full(repo, image, "vm", "vda");
                SnapshotManifest m = repo.load(id);
                System.out.printf("retry: %d chunks reused, %d new, %d objects uploaded%n", m.statistics().chunksReused(),
                        m.statistics().chunksNew(), repo.backend().putCount());
                assertThat(m.statistics().chunksReused()).isEqualTo(storedBeforeOutage);
                assertThat(m.statistics().chunksNew()).isEqualTo(10 - storedBeforeOutage);
                assertThat(repo.backend().putCount()).as("uploads: lock, new chunks, manifest, summary").isEqualTo(m.statistics().chunksNew() + 3);
                Path out = work.resolve("out.qcow2");
                new Restorer(repo).restore(RestoreRequest.of(m, out, RestoreFormat.QCOW2));
                assertThat(QemuImages.identical(out, image)).isTrue();
            }
        }
    }

    @Test
    void credentialsNeverAppearInMessagesOrPrintedUris() throws Exception {
        s3 = S3ProxyServer.start(work.resolve("s3"));
        s3.createBucket("bkt1");
        String secret = "NotTheRightSecret-98765";
        RepositoryUri uri = RepositoryUri.parse("s3://bkt1/p?endpoint=" + s3.endpoint() + "&region=us-east-1&accessKey="
                + S3ProxyServer.ACCESS_KEY + "&secretKey=" + secret);
        assertThat(uri.toString()).doesNotContain(secret).doesNotContain(S3ProxyServer.ACCESS_KEY);
        assertThatThrownBy(() -> Repository.init(uri, RepositoryOptions.defaults()))
                .isInstanceOf(RepositoryException.class)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(secret).contains("s3://bkt1/p"));
        try (Repository repo = Repository.init(s3.repositoryUri("bkt1", "q"), RepositoryOptions.builder()
                .s3Credentials(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY).build())) {
            assertThat(repo.backend()).isInstanceOf(S3Backend.class);
            assertThat(repo.backend().describe()).doesNotContain(S3ProxyServer.SECRET_KEY).doesNotContain(S3ProxyServer.ACCESS_KEY);
        }
    }
}
