package dev.coldcopy.repository.lifecycle;

import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.testing.S3ProxyServer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

class S3PruneTest extends AbstractPruneTest {
    @TempDir
    static Path serverDir;
    static S3ProxyServer s3;

    @BeforeAll
    static void startS3() throws Exception {
        s3 = S3ProxyServer.start(serverDir);
        s3.createBucket("backups");
    }

    @AfterAll
    static void stopS3() {
        if (s3 != null) {
            s3.close();
        }
    }

    @Override
    RepositoryUri repositoryUri() {
        return s3.repositoryUri("backups", "prune/" + work.getFileName());
    }

    @Override
    RepositoryOptions.Builder backendOptions(RepositoryOptions.Builder b) {
        return b.s3Credentials(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY);
    }

    @Override
    Path storageRoot() {
        return s3.bucketDir("backups").resolve("prune").resolve(work.getFileName().toString());
    }
}
