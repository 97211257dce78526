package dev.coldcopy.repository.lifecycle;

import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import java.nio.file.Path;

class FilePruneTest extends AbstractPruneTest {
    @Override
    RepositoryUri repositoryUri() {
        return RepositoryUri.parse("file:" + storageRoot());
    }

    @Override
    RepositoryOptions.Builder backendOptions(RepositoryOptions.Builder b) {
        return b;
    }

    @Override
    Path storageRoot() {
        return work.resolve("repo");
    }
}
