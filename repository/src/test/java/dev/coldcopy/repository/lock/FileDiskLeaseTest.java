package dev.coldcopy.repository.lock;

import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import java.util.List;

class FileDiskLeaseTest extends AbstractDiskLeaseTest {
    @Override
    RepositoryUri repositoryUri() {
        return RepositoryUri.parse("file:" + work.resolve("repo"));
    }

    @Override
    RepositoryOptions.Builder backendOptions(RepositoryOptions.Builder b) {
        return b;
    }

    @Override
    List<String> childArguments() {
        return List.of();
    }
}
