package dev.coldcopy.repository.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The backends' servers as JUnit extensions, one per test class ({@code @RegisterExtension static final}):
 * started in a private temp directory before the class's first test, stopped and removed after its last.
 */
public final class TestServers {
    private TestServers() {
    }

    /** s3proxy with a bucket named {@value #BUCKET} */
    public static final class S3Proxy implements BeforeAllCallback, AfterAllCallback {
        public static final String BUCKET = "backups";
        private Path dir;
        private S3ProxyServer server;

        @Override
        public void beforeAll(ExtensionContext context) throws Exception {
            dir = Files.createTempDirectory("coldcopy-s3proxy-");
            server = S3ProxyServer.start(dir);
            server.createBucket(BUCKET);
        }

        @Override
        public void afterAll(ExtensionContext context) throws Exception {
            if (server != null) {
                server.close();
            }
            deleteTree(dir);
        }

        public S3ProxyServer server() {
            return server;
        }
    }

    /** MINA SSHD's SFTP server */
    public static final class Sftp implements BeforeAllCallback, AfterAllCallback {
        private Path dir;
        private SftpServer server;

        @Override
        public void beforeAll(ExtensionContext context) throws Exception {
            dir = Files.createTempDirectory("coldcopy-sftp-");
            server = SftpServer.start(dir);
        }

        @Override
        public void afterAll(ExtensionContext context) throws Exception {
            if (server != null) {
                server.close();
            }
            deleteTree(dir);
        }

        public SftpServer server() {
            return server;
        }
    }

    private static void deleteTree(Path dir) throws java.io.IOException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
