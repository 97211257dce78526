package dev.coldcopy.repository;

import dev.coldcopy.repository.testing.S3ProxyServer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

class S3ChunkRepairTest extends AbstractChunkRepairTest {
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
        return s3.repositoryUri("backups", "repair/" + work.getFileName());
    }

    @Override
    RepositoryOptions.Builder backendOptions(RepositoryOptions.Builder b) {
        return b.s3Credentials(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY);
    }
}
