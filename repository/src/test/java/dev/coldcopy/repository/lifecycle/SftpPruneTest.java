package dev.coldcopy.repository.lifecycle;

import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.testing.SftpServer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

class SftpPruneTest extends AbstractPruneTest {
    @TempDir
    static Path serverDir;
    static SftpServer sftp;

    @BeforeAll
    static void startSftp() throws Exception {
        sftp = SftpServer.start(serverDir);
    }

    @AfterAll
    static void stopSftp() throws Exception {
        if (sftp != null) {
            sftp.close();
        }
    }

    @Override
    RepositoryUri repositoryUri() {
        return sftp.repositoryUri("prune-" + work.getFileName());
    }

    @Override
    RepositoryOptions.Builder backendOptions(RepositoryOptions.Builder b) {
        return sftp.options(b);
    }

    @Override
    Path storageRoot() {
        return sftp.root().resolve("prune-" + work.getFileName());
    }
}
