package dev.coldcopy.service;

import java.nio.file.Path;

/** The round trip on a local directory (the default repository). */
class FileRepositoryRoundTripTest extends RepositoryRoundTripContract {
    @Override
    void useRepository(ServiceHarness service, Path dir) {
        // the harness' default: file:{home}/repository
    }
}
