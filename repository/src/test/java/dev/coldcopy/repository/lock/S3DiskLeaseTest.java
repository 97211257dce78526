package dev.coldcopy.repository.lock;

import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.testing.S3ProxyServer;
import dev.coldcopy.repository.testing.TestServers;
import java.util.List;
import org.junit.jupiter.api.extension.RegisterExtension;

class S3DiskLeaseTest extends AbstractDiskLeaseTest {
    @RegisterExtension
    static final TestServers.S3Proxy S3 = new TestServers.S3Proxy();

    @Override
    RepositoryUri repositoryUri() {
        return S3.server().repositoryUri(TestServers.S3Proxy.BUCKET, "leases/" + work.getFileName());
    }

    @Override
    RepositoryOptions.Builder backendOptions(RepositoryOptions.Builder b) {
        return b.s3Credentials(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY);
    }

    @Override
    List<String> childArguments() {
        return List.of(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY);
    }
}
