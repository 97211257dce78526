package dev.coldcopy.repository;

import dev.coldcopy.repository.testing.S3MockServer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The round trip against a second S3 implementation (Adobe S3Mock), with the README's non-AWS defaults. */
class S3MockRoundTripTest extends AbstractRoundTripTest {
    @TempDir
    static Path serverDir;
    static S3MockServer s3;

    @BeforeAll
    static void startS3() throws Exception {
        s3 = S3MockServer.start(serverDir, "backups");
    }

    @AfterAll
    static void stopS3() {
        if (s3 != null) {
            s3.close();
        }
    }

    @Override
    RepositoryUri repositoryUri() {
        return s3.repositoryUri("backups", "cc/" + work.getFileName());
    }

    @Override
    RepositoryOptions.Builder backendOptions(RepositoryOptions.Builder b) {
        return b.s3Credentials(S3MockServer.ACCESS_KEY, S3MockServer.SECRET_KEY);
    }
}
