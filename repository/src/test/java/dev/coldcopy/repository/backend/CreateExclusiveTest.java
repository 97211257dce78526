package dev.coldcopy.repository.backend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.testing.S3ProxyServer;
import dev.coldcopy.repository.testing.SftpServer;
import dev.coldcopy.repository.testing.StartedCamel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** createExclusive on every backend: the first call creates, a second never overwrites, nothing temporary is left. */
class CreateExclusiveTest {
    @TempDir
    static Path shared;
    static S3ProxyServer s3;
    static SftpServer sftp;
    @TempDir
    Path work;
    @RegisterExtension
    final StartedCamel camel = new StartedCamel();

    @BeforeAll
    static void start() throws Exception {
        s3 = S3ProxyServer.start(Files.createDirectories(shared.resolve("s3")));
        s3.createBucket("bkt");
        sftp = SftpServer.start(Files.createDirectories(shared.resolve("sftp")));
    }

    @AfterAll
    static void stop() throws Exception {
        if (s3 != null) {
            s3.close();
        }
        if (sftp != null) {
            sftp.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"file", "s3", "sftp"})
    void createsOnceAndNeverOverwrites(String kind) throws Exception {
        RepositoryOptions.Builder o = RepositoryOptions.builder().camelContext(camel.context());
        RepositoryUri uri = switch (kind) {
            case "file" -> RepositoryUri.file(work.resolve("repo"));
            case "s3" -> {
                o.s3Credentials(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY);
                yield s3.repositoryUri("bkt", work.getFileName().toString());
            }
            default -> {
                sftp.options(o);
                yield sftp.repositoryUri("srv/" + work.getFileName());
            }
        };
        byte[] first = "first".getBytes(StandardCharsets.US_ASCII);
        byte[] second = "second".getBytes(StandardCharsets.US_ASCII);
        try (RepositoryBackend backend = Backends.create(uri, o.build(), camel.context())) {
            assertThat(backend.createExclusive("config", first)).isTrue();
            assertThat(backend.createExclusive("config", second)).isFalse();
            assertThat(backend.get("config")).isEqualTo(first);
            assertThat(backend.list("")).containsExactly("config");
        }
        Path local = switch (kind) {
            case "file" -> work.resolve("repo");
            case "s3" -> s3.bucketDir("bkt").resolve(work.getFileName().toString());
            default -> sftp.root().resolve("srv").resolve(work.getFileName().toString());
        };
        try (Stream<Path> files = Files.walk(local)) {
            assertThat(files.filter(p -> !p.equals(local)).map(p -> p.getFileName().toString()))
                    .as("no temporary files or locks left").containsExactly("config");
        }
    }
}
