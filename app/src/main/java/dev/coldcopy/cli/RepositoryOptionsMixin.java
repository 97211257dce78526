package dev.coldcopy.cli;

import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** How the repository commands find and open a repository. */
final class RepositoryOptionsMixin {

    @Option(names = "--repo", required = true, paramLabel = "URI",
            description = {"Repository: file:/path, s3://bucket/prefix?region=..&endpoint=..,",
                "sftp://user@host:port/path. S3 credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the AWS profile;",
                "S3 client settings as URI parameters: checksum, pathStyle, chunkedEncoding, verify (README: S3 stores)."})
    String repository;

    @Option(names = "--key-file", paramLabel = "FILE", description = "Key file of an encrypted repository.")
    Path keyFile;

    @Option(names = "--sftp-key", paramLabel = "FILE", description = "SFTP private key (default ~/.ssh/id_ecdsa, id_rsa).")
    Path sftpKey;

    @Option(names = "--known-hosts", paramLabel = "FILE", description = "SFTP known_hosts (default ~/.ssh/known_hosts).")
    Path knownHosts;

    Repository open() throws IOException {
        return Repository.open(RepositoryUri.parse(repository), options().build());
    }

    /** creates the repository (encrypted when --key-file is given); fails if one exists */
    Repository init() throws IOException {
        return Repository.init(RepositoryUri.parse(repository), options().build());
    }

    private RepositoryOptions.Builder options() {
        RepositoryOptions.Builder options = RepositoryOptions.builder();
        // the service's S3 credentials from the environment (application.properties recommends these), so a
        // repository the service writes can be read with the same environment; else the AWS variables/chain
        String access = System.getenv("COLDCOPY_REPOSITORY_S3_ACCESS_KEY");
        String secret = System.getenv("COLDCOPY_REPOSITORY_S3_SECRET_KEY");
        if (access != null && !access.isBlank() && secret != null && !secret.isBlank()) {
            options.s3Credentials(access, secret);
        }
        if (keyFile != null) {
            options.keyFile(keyFile);
        }
        if (sftpKey != null) {
            options.sftpPrivateKeyFile(sftpKey);
        }
        if (knownHosts != null) {
            options.sftpKnownHostsFile(knownHosts);
        }
        return options;
    }
}
