package dev.coldcopy.repository;

import dev.coldcopy.repository.testing.SftpServer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

class SftpRoundTripTest extends AbstractRoundTripTest {
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

    @org.junit.jupiter.api.AfterEach
    void noTemporaryFilesLeft() throws Exception {
        try (var files = java.nio.file.Files.walk(sftp.root())) {
            org.assertj.core.api.Assertions.assertThat(files.map(p -> p.getFileName().toString()))
                    .as("uploads are renamed into place").noneMatch(n -> n.startsWith(".tmp-"))
                    .anyMatch(n -> n.equals("config"));
        }
    }

    @Override
    RepositoryUri repositoryUri() {
        return sftp.repositoryUri("srv/backups/" + work.getFileName());
    }

    @Override
    RepositoryOptions.Builder backendOptions(RepositoryOptions.Builder b) {
        return sftp.options(b);
    }
}
