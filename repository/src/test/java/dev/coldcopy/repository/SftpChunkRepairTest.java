package dev.coldcopy.repository;

import dev.coldcopy.repository.testing.SftpServer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** the repair contract on SFTP (MINA SSHD): quarantine is a rename on the server */
class SftpChunkRepairTest extends AbstractChunkRepairTest {
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
        return sftp.repositoryUri("srv/" + work.getFileName());
    }

    @Override
    RepositoryOptions.Builder backendOptions(RepositoryOptions.Builder b) {
        return sftp.options(b);
    }
}
