package dev.coldcopy.repository.backend;

import dev.coldcopy.repository.RepositoryException;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import java.io.IOException;
import org.apache.camel.CamelContext;

/** Creates the backend a repository URI names. */
public final class Backends {
    private Backends() {
    }

    public static RepositoryBackend create(RepositoryUri uri, RepositoryOptions options, CamelContext context) throws IOException {
        switch (uri.scheme()) {
            case FILE:
                return new FileBackend(uri.directory(), context, options.durableWrites());
            case S3:
                return new S3Backend(uri, options, context);
            case SFTP:
                return new SftpBackend(uri, options, context);
            default:
                throw new RepositoryException("unsupported repository scheme " + uri.scheme());
        }
    }
}
