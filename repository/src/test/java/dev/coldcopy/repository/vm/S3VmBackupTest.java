package dev.coldcopy.repository.vm;

import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.testing.S3ProxyServer;
import dev.coldcopy.repository.testing.TestServers;
import org.junit.jupiter.api.extension.RegisterExtension;

class S3VmBackupTest extends AbstractVmBackupTest {
    @RegisterExtension
    static final TestServers.S3Proxy S3 = new TestServers.S3Proxy();

    @Override
    RepositoryUri repositoryUri() {
        return S3.server().repositoryUri(TestServers.S3Proxy.BUCKET, "vm/" + work.getFileName());
    }

    @Override
    RepositoryOptions.Builder backendOptions(RepositoryOptions.Builder b) {
        return b.s3Credentials(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY);
    }
}
