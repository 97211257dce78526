package dev.coldcopy.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.repository.backend.S3Backend;
import dev.coldcopy.repository.backend.S3Settings;
import dev.coldcopy.repository.testing.ManglingProxy;
import dev.coldcopy.repository.testing.ManglingProxy.Damage;
import dev.coldcopy.repository.testing.S3MockServer;
import dev.coldcopy.repository.testing.S3ProxyServer;
import dev.coldcopy.repository.testing.StartedCamel;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Objects above the multipart threshold go up in checked parts, on both S3 implementations. */
class S3MultipartTest {
    private static final int MIB = 1 << 20;
    @TempDir
    static Path serverDir;
    static S3ProxyServer s3proxy;
    static S3MockServer s3mock;
    @RegisterExtension
    final StartedCamel camel = new StartedCamel();

    @BeforeAll
    static void start() throws Exception {
        s3proxy = S3ProxyServer.start(serverDir.resolve("proxy"), false);
        s3proxy.createBucket("big");
        s3mock = S3MockServer.start(java.nio.file.Files.createDirectories(serverDir.resolve("mock")), "big");
    }

    @AfterAll
    static void stop() {
        if (s3proxy != null) {
            s3proxy.close();
        }
        if (s3mock != null) {
            s3mock.close();
        }
    }

    private RepositoryOptions options() {
        return RepositoryOptions.builder().camelContext(camel.context())
                .s3Credentials(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY)
                .s3Setting("multipart-threshold", "6MiB").s3Setting("part-size", "5MiB").build();
    }

    @Test
    void aLargeObjectRoundTripsInPartsOnBothStores() throws Exception {
        byte[] big = new byte[13 * MIB + 17];
        new Random(4).nextBytes(big);
        for (String endpoint : new String[] {s3proxy.endpoint(), s3mock.endpoint()}) {
            RepositoryUri uri = RepositoryUri.parse("s3://big/parts?endpoint=" + endpoint + "&region=us-east-1");
            try (Repository repo = Repository.openOrInit(uri, options())) {
                S3Settings settings = ((S3Backend) repo.backend()).settings();
                assertThat(settings.partSize()).isEqualTo(5L * MIB);
                long before = repo.backend().putCount();
                repo.backend().put("snapshots/vm/vda/big", big);
                assertThat(repo.backend().putCount()).isEqualTo(before + 1);
                assertThat(repo.backend().get("snapshots/vm/vda/big")).as(endpoint).isEqualTo(big);
            }
        }
    }

    @Test
    void aDamagedPartFailsTheUploadAndLeavesNoObject() throws Exception {
        byte[] big = new byte[11 * MIB];
        new Random(5).nextBytes(big);
        try (ManglingProxy proxy = new ManglingProxy(s3proxy.port(), Damage.FLIP_BYTE_AND_DROP_MD5, p -> p.contains("partNumber=2"));
             Repository repo = Repository.openOrInit(RepositoryUri.parse("s3://big/damaged?endpoint=" + proxy.endpoint() + "&region=us-east-1"), options())) {
            assertThatThrownBy(() -> repo.backend().put("snapshots/vm/vda/big", big))
                    .isInstanceOf(RepositoryException.class)
                    .hasMessageContaining("part 2").hasMessageContaining("did not keep what was sent");
            assertThat(repo.backend().exists("snapshots/vm/vda/big")).isFalse();
        }
    }

    @Test
    void partSizeGrowsToStayWithinTenThousandParts() {
        S3Settings s = S3Settings.of(RepositoryUri.parse("s3://b/p?endpoint=http://x:1"), Map.of("partSize", "5MiB"));
        assertThat(s.partSizeFor(5L * MIB * 10_000)).isEqualTo(5L * MIB);
        assertThat(s.partSizeFor(5L * MIB * 10_000 + 1)).isEqualTo(10L * MIB);
        assertThat(s.checksum()).isEqualTo(S3Settings.Checksum.WHEN_REQUIRED);
        assertThat(s.pathStyle()).isTrue();
        assertThat(s.chunkedEncoding()).isFalse();
        S3Settings aws = S3Settings.of(RepositoryUri.parse("s3://b/p?region=eu-west-1"), Map.of());
        assertThat(aws.checksum()).isEqualTo(S3Settings.Checksum.WHEN_SUPPORTED);
        assertThat(aws.pathStyle()).isFalse();
        assertThat(aws.chunkedEncoding()).isTrue();
        S3Settings configured = S3Settings.of(RepositoryUri.parse("s3://b/p?endpoint=http://x:1&pathStyle=false"),
                Map.of("path-style", "true", "chunked-encoding", "true"));
        assertThat(configured.pathStyle()).as("the URI wins over configuration").isFalse();
        assertThat(configured.chunkedEncoding()).isTrue();
        assertThatThrownBy(() -> S3Settings.of(RepositoryUri.parse("s3://b/p?checksum=sometimes"), Map.of()))
                .hasMessageContaining("checksum must be when-required or when-supported");
    }
}
