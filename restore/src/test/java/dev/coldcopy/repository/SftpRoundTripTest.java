package dev.coldcopy.repository;

import dev.coldcopy.repository.testing.ImageBackup;
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

    @org.junit.jupiter.api.Test
    void everyObjectIsFsyncedWhereTheServerOffersIt() throws Exception {
        try (Repository repo = Repository.init(repositoryUri(), options())) {
            ImageBackup.full(repo, makeImage(work.resolve("disk.qcow2")), "vm", "vda");
            dev.coldcopy.repository.backend.SftpBackend backend = (dev.coldcopy.repository.backend.SftpBackend) repo.backend();
            long objects;
            try (var files = java.nio.file.Files.walk(sftp.root().resolve(repositoryUri().path().substring(1)))) {
                objects = files.filter(java.nio.file.Files::isRegularFile).count();
            }
            // every object still there (a backup's lock object comes and goes) was fsynced
            org.assertj.core.api.Assertions.assertThat(objects).isGreaterThan(3);
            org.assertj.core.api.Assertions.assertThat(backend.syncCount()).isGreaterThanOrEqualTo(objects)
                    .isLessThanOrEqualTo(backend.putCount());
        }
        // owner only, as in a file repository
        try (var files = java.nio.file.Files.walk(sftp.root().resolve(repositoryUri().path().substring(1)))) {
            for (Path p : files.toList()) {
                org.assertj.core.api.Assertions.assertThat(java.nio.file.Files.getPosixFilePermissions(p)).as(p.toString())
                        .noneMatch(m -> m.name().startsWith("GROUP") || m.name().startsWith("OTHERS"));
            }
        }
    }

    @org.junit.jupiter.api.Test
    void unknownHostKeyIsRejectedByDefault() throws Exception {
        java.nio.file.Path otherKnownHosts = work.resolve("known_hosts");
        // a known_hosts entry for this host and port, but with another key
        java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
        g.initialize(256);
        java.nio.file.Files.writeString(otherKnownHosts, "[127.0.0.1]:" + sftp.port() + " "
                + org.apache.sshd.common.config.keys.PublicKeyEntry.toString(g.generateKeyPair().getPublic()) + "\n");
        RepositoryOptions opts = options().toBuilder().sftpKnownHostsFile(otherKnownHosts).build();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Repository.init(repositoryUri(), opts))
                .isInstanceOf(RepositoryException.class)
                .hasMessageContaining("HostKey");
        // and without any known_hosts file, strict checking refuses to start
        RepositoryOptions none = options().toBuilder().sftpKnownHostsFile(work.resolve("absent")).build();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Repository.init(repositoryUri(), none))
                .hasMessageContaining("known_hosts");
        // put the config object back for noTemporaryFilesLeft()
        Repository.init(repositoryUri(), options()).close();
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
