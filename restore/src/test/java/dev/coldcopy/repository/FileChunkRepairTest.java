package dev.coldcopy.repository;

class FileChunkRepairTest extends AbstractChunkRepairTest {
    @Override
    RepositoryUri repositoryUri() {
        return RepositoryUri.file(work.resolve("repo"));
    }

    @Override
    RepositoryOptions.Builder backendOptions(RepositoryOptions.Builder b) {
        return b;
    }
}
