package dev.coldcopy.service;

import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.testing.S3ProxyServer;
import java.nio.file.Path;

/** The round trip on S3: s3proxy as a separate process, credentials from the service settings. */
class S3RepositoryRoundTripTest extends RepositoryRoundTripContract {
    private S3ProxyServer s3;

    @Override
    void useRepository(ServiceHarness service, Path dir) throws Exception {
        s3 = startS3(service, dir);
    }

    /** Starts s3proxy with a bucket and points the service at s3://backups/vms on it. */
    static S3ProxyServer startS3(ServiceHarness service, Path dir) throws Exception {
        S3ProxyServer s3 = S3ProxyServer.start(java.nio.file.Files.createDirectories(dir.resolve("s3")));
        s3.createBucket("backups");
        service.repository(s3.repositoryUri("backups", "vms"), RepositoryOptions.builder()
                        .s3Credentials(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY).build())
                .set("coldcopy.repository.s3.access-key", S3ProxyServer.ACCESS_KEY)
                .set("coldcopy.repository.s3.secret-key", S3ProxyServer.SECRET_KEY);
        return s3;
    }

    @Override
    void closeRepository() {
        if (s3 != null) {
            s3.close();
        }
    }
}
