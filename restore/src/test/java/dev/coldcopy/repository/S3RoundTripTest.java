package dev.coldcopy.repository;

import dev.coldcopy.repository.testing.S3ProxyServer;
import dev.coldcopy.repository.testing.TestServers;
import org.junit.jupiter.api.extension.RegisterExtension;

class S3RoundTripTest extends AbstractRoundTripTest {
    @RegisterExtension
    static final TestServers.S3Proxy S3 = new TestServers.S3Proxy();

    @Override
    RepositoryUri repositoryUri() {
        return S3.server().repositoryUri("backups", "cc/" + work.getFileName());
    }

    @Override
    RepositoryOptions.Builder backendOptions(RepositoryOptions.Builder b) {
        return b.s3Credentials(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY);
    }
}
