package dev.coldcopy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.repository.RepositoryKeys;
import dev.coldcopy.repository.testing.ManglingProxy;
import dev.coldcopy.repository.testing.S3ProxyServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** coldcopy init and coldcopy key generate; read-only commands never create a repository. */
class InitAndKeyCommandsTest {
    @TempDir
    Path dir;

    @Test
    void readOnlyCommandsCreateNothing() {
        Path absent = dir.resolve("no/such/dir");
        for (String command : new String[] {"snapshots", "verify"}) {
            CliRun r = CliRun.coldcopy(command, "--repo", "file:" + absent);
            assertThat(r.exit()).isEqualTo(1);
            assertThat(r.err().strip()).startsWith("coldcopy " + command + ": no repository at").contains("coldcopy init").doesNotContain("\n");
            assertThat(dir.resolve("no")).as(command + " must not create anything").doesNotExist();
        }
    }

    @Test
    void keyGenerateThenEncryptedInit() throws Exception {
        Path key = dir.resolve("repo.key");
        CliRun gen = CliRun.coldcopy("key", "generate", key.toString());
        assertThat(gen.exit()).as(gen.err()).isZero();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        assertThat(RepositoryKeys.readKeyFile(key)).hasSize(32);
        byte[] before = Files.readAllBytes(key);
        CliRun again = CliRun.coldcopy("key", "generate", key.toString());
        assertThat(again.exit()).isEqualTo(1);
        assertThat(again.err().strip()).contains("exists already").doesNotContain("\n");
        assertThat(Files.readAllBytes(key)).as("an existing key is never overwritten").isEqualTo(before);

        String repo = "file:" + dir.resolve("repo");
        CliRun init = CliRun.coldcopy("init", "--repo", repo, "--key-file", key.toString());
        assertThat(init.exit()).as(init.err()).isZero();
        assertThat(init.out()).matches("initialised repository [0-9a-f]{8} at .* \\(encrypted\\)\\R");
        assertThat(dir.resolve("repo/config")).exists();
        assertThat(dir.resolve("repo/probes")).as("the probe object is gone").isEmptyDirectory();

        CliRun twice = CliRun.coldcopy("init", "--repo", repo, "--key-file", key.toString());
        assertThat(twice.exit()).isEqualTo(1);
        assertThat(twice.err().strip()).contains("a repository already exists");

        CliRun list = CliRun.coldcopy("snapshots", "--repo", repo, "--key-file", key.toString());
        assertThat(list.exit()).as(list.err()).isZero();
        CliRun noKey = CliRun.coldcopy("snapshots", "--repo", repo);
        assertThat(noKey.exit()).isEqualTo(1);
        assertThat(noKey.err()).contains("encrypted");
    }

    @Test
    void initRefusesAStoreThatDoesNotKeepWhatItIsSent() throws Exception {
        try (S3ProxyServer s3 = S3ProxyServer.start(Files.createDirectories(dir.resolve("s3")), false);
             ManglingProxy proxy = new ManglingProxy(s3.port(), ManglingProxy.Damage.FLIP_BYTE_AND_DROP_MD5, p -> true)) {
            s3.createBucket("backups");
            String repo = "s3://backups/vms?endpoint=" + proxy.endpoint() + "&region=us-east-1&accessKey=a&secretKey=b";
            CliRun init = CliRun.coldcopy("init", "--repo", repo);
            assertThat(init.exit()).isEqualTo(1);
            assertThat(init.err().strip()).startsWith("coldcopy init: refusing s3://backups/vms")
                    .contains("did not keep what was sent").doesNotContain("\n").doesNotContain("secretKey=b");
            try (var files = Files.walk(s3.bucketDir("backups"))) {
                assertThat(files.filter(Files::isRegularFile)).as("no config, no probe left").isEmpty();
            }
        }
    }

    @Test
    void plainInit() {
        String repo = "file:" + dir.resolve("plain");
        CliRun init = CliRun.coldcopy("init", "--repo", repo);
        assertThat(init.exit()).as(init.err()).isZero();
        assertThat(init.out()).contains("(not encrypted)");
        assertThat(CliRun.coldcopy("snapshots", "--repo", repo).exit()).isZero();
    }
}
