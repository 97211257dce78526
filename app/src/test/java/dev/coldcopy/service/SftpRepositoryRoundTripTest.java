package dev.coldcopy.service;

import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.testing.SftpServer;
import java.nio.file.Path;

/** The round trip on SFTP: an embedded MINA SSHD server, key file and known_hosts from the service settings. */
class SftpRepositoryRoundTripTest extends RepositoryRoundTripContract {
    private SftpServer sftp;

    @Override
    void useRepository(ServiceHarness service, Path dir) throws Exception {
        sftp = SftpServer.start(dir.resolve("sftp"));
        service.repository(sftp.repositoryUri("backups/vms"), sftp.options(RepositoryOptions.builder()).build())
                .set("coldcopy.repository.sftp.private-key-file", sftp.privateKeyFile().toString())
                .set("coldcopy.repository.sftp.known-hosts-file", sftp.knownHostsFile().toString());
    }

    @Override
    void closeRepository() throws Exception {
        if (sftp != null) {
            sftp.close();
        }
    }
}
