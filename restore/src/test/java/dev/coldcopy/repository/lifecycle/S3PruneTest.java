package dev.coldcopy.repository.lifecycle;

import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.testing.S3ProxyServer;
import dev.coldcopy.repository.testing.TestServers;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.RegisterExtension;

class S3PruneTest extends AbstractPruneTest {
    @RegisterExtension
    static final TestServers.S3Proxy S3 = new TestServers.S3Proxy();

    @Override
    RepositoryUri repositoryUri() {
        return S3.server().repositoryUri("backups", "prune/" + work.getFileName());
    }

    @Override
    RepositoryOptions.Builder backendOptions(RepositoryOptions.Builder b) {
        return b.s3Credentials(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY);
    }

    @Override
    Path storageRoot() {
        return S3.server().bucketDir("backups").resolve("prune").resolve(work.getFileName().toString());
    }
}
