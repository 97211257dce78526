package dev.coldcopy.repository.lifecycle;

import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.testing.S3MockServer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** Prune on the second S3 implementation (Adobe S3Mock), with the README's defaults for a non-AWS endpoint. */
class S3MockPruneTest extends AbstractPruneTest {
    @TempDir
    static Path serverDir;
    static S3MockServer s3;

    @BeforeAll
    static void startS3() throws Exception {
        s3 = S3MockServer.start(Files.createDirectories(serverDir.resolve("s3mock")), "backups");
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
        return b.s3Credentials(S3MockServer.ACCESS_KEY, S3MockServer.SECRET_KEY);
    }

    @Override
    Path storageRoot() {
        return serverDir; // S3Mock keeps objects in a layout of its own: bytes are measured through the store
    }

    /** what the store says it holds under chunks/ (its own listing, object sizes) */
    @Override
    long bytesOnDisk() throws Exception {
        try (Repository r = Repository.open(repositoryUri(), options())) {
            return r.backend().listSizes("chunks/").values().stream().mapToLong(Long::longValue).sum();
        }
    }
}
