package dev.coldcopy.repository;

class FileRoundTripTest extends AbstractRoundTripTest {
    @Override
    RepositoryUri repositoryUri() {
        return RepositoryUri.parse("file:" + work.resolve("repo"));
    }

    @Override
    RepositoryOptions.Builder backendOptions(RepositoryOptions.Builder b) {
        return b;
    }
}
