package dev.coldcopy.repository.lifecycle;

import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.testing.TestServers;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.RegisterExtension;

class SftpPruneTest extends AbstractPruneTest {
    @RegisterExtension
    static final TestServers.Sftp SFTP = new TestServers.Sftp();

    @Override
    RepositoryUri repositoryUri() {
        return SFTP.server().repositoryUri("prune-" + work.getFileName());
    }

    @Override
    RepositoryOptions.Builder backendOptions(RepositoryOptions.Builder b) {
        return SFTP.server().options(b);
    }

    @Override
    Path storageRoot() {
        return SFTP.server().root().resolve("prune-" + work.getFileName());
    }
}
