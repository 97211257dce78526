package dev.coldcopy.service;

import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.testing.S3MockServer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The service's round trip on a second S3 implementation (Adobe S3Mock as a separate process), with the
 * settings the README documents for a non-AWS endpoint: none (the defaults are conservative there).
 */
class S3MockRepositoryRoundTripTest extends RepositoryRoundTripContract {
    private S3MockServer s3;

    @Override
    void useRepository(ServiceHarness service, Path dir) throws Exception {
        s3 = S3MockServer.start(Files.createDirectories(dir.resolve("s3mock")), "backups");
        service.repository(s3.repositoryUri("backups", "vms"), RepositoryOptions.builder()
                        .s3Credentials(S3MockServer.ACCESS_KEY, S3MockServer.SECRET_KEY).build())
                .set("coldcopy.repository.s3.access-key", S3MockServer.ACCESS_KEY)
                .set("coldcopy.repository.s3.secret-key", S3MockServer.SECRET_KEY);
    }

    @Override
    void closeRepository() {
        if (s3 != null) {
            s3.close();
        }
    }
}
