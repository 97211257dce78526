package dev.coldcopy.repository.vm;

import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.testing.TestServers;
import org.junit.jupiter.api.extension.RegisterExtension;

class SftpVmBackupTest extends AbstractVmBackupTest {
    @RegisterExtension
    static final TestServers.Sftp SFTP = new TestServers.Sftp();

    @Override
    RepositoryUri repositoryUri() {
        return SFTP.server().repositoryUri("vm-" + work.getFileName());
    }

    @Override
    RepositoryOptions.Builder backendOptions(RepositoryOptions.Builder b) {
        return SFTP.server().options(b);
    }
}
