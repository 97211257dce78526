package dev.coldcopy.repository;

import dev.coldcopy.repository.testing.TestServers;
import org.junit.jupiter.api.extension.RegisterExtension;

/** the repair contract on SFTP (MINA SSHD): quarantine is a rename on the server */
class SftpChunkRepairTest extends AbstractChunkRepairTest {
    @RegisterExtension
    static final TestServers.Sftp SFTP = new TestServers.Sftp();

    @Override
    RepositoryUri repositoryUri() {
        return SFTP.server().repositoryUri("srv/" + work.getFileName());
    }

    @Override
    RepositoryOptions.Builder backendOptions(RepositoryOptions.Builder b) {
        return SFTP.server().options(b);
    }
}
