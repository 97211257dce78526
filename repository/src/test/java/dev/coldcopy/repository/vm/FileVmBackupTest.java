package dev.coldcopy.repository.vm;

import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;

class FileVmBackupTest extends AbstractVmBackupTest {
    @Override
    RepositoryUri repositoryUri() {
        return RepositoryUri.parse("file:" + work.resolve("repo"));
    }

    @Override
    RepositoryOptions.Builder backendOptions(RepositoryOptions.Builder b) {
        return b;
    }
}
