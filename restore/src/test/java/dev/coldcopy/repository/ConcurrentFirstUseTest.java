package dev.coldcopy.repository;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.repository.testing.ImageBackup;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.repository.testing.S3MockServer;
import dev.coldcopy.repository.testing.S3ProxyServer;
import dev.coldcopy.repository.testing.SftpServer;
import dev.coldcopy.restore.RestoreFormat;
import dev.coldcopy.restore.RestoreRequest;
import dev.coldcopy.restore.Restorer;
import dev.coldcopy.repository.verify.Verifier;
import dev.coldcopy.repository.verify.VerifyResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Concurrent first use: 4 backups of 4 VMs start together into a repository that does not exist yet, each
 * with its own Repository, backend, S3/SFTP client and CamelContext (all they share with each other is the
 * store, as separate processes would). Every time exactly one repository id, every snapshot restores
 * identical, verify is clean. 10 rounds per backend, encrypted and not.
 */
class ConcurrentFirstUseTest {
    private static final int WRITERS = 4;
    private static final int ROUNDS = 10;

    @TempDir
    static Path shared;
    static S3ProxyServer s3proxy;
    static S3MockServer s3mock;
    static SftpServer sftp;
    static final List<Path> images = new ArrayList<>();
    static Path key;

    @BeforeAll
    static void start() throws Exception {
        s3proxy = S3ProxyServer.start(shared.resolve("s3proxy"));
        s3proxy.createBucket("fleet");
        s3mock = S3MockServer.start(Files.createDirectories(shared.resolve("s3mock")), "fleet");
        sftp = SftpServer.start(Files.createDirectories(shared.resolve("sftp")));
        for (int vm = 0; vm < WRITERS; vm++) {
            Path image = QemuImages.createQcow2(shared.resolve("vm" + vm + ".qcow2"), 2L << 20);
            QemuImages.writeRandom(image, 0, 1 << 20, new Random(vm));
            images.add(image);
        }
        key = shared.resolve("fleet.key");
        RepositoryKeys.generateKeyFile(key);
    }

    @AfterAll
    static void stop() throws Exception {
        if (s3proxy != null) {
            s3proxy.close();
        }
        if (s3mock != null) {
            s3mock.close();
        }
        if (sftp != null) {
            sftp.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"file", "s3proxy", "s3mock", "sftp"})
    void everyRoundOneRepositoryAndEverySnapshotRestores(String backend) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
        try {
            for (int round = 0; round < ROUNDS; round++) {
                boolean encrypted = round % 2 == 1;
                RepositoryUri uri = uri(backend, "r" + round + (encrypted ? "-enc" : ""));
                RepositoryOptions options = options(backend, encrypted);
                CyclicBarrier start = new CyclicBarrier(WRITERS);
                List<Future<String[]>> results = new ArrayList<>();
                for (int vm = 0; vm < WRITERS; vm++) {
                    int v = vm;
                    results.add(pool.submit(() -> {
                        start.await(30, TimeUnit.SECONDS);
                        try (Repository repo = Repository.openOrInit(uri, options)) {
                            SnapshotId id = ImageBackup.full(repo, images.get(v), "vm" + v, "vda");
                            return new String[] {repo.id(), id.value()};
                        }
                    }));
                }
                Set<String> ids = new TreeSet<>();
                for (Future<String[]> f : results) {
                    ids.add(f.get(120, TimeUnit.SECONDS)[0]);
                }
                assertThat(ids).as(backend + " round " + round + ": one repository id").hasSize(1);
                try (Repository repo = Repository.open(uri, options)) {
                    assertThat(repo.id()).isEqualTo(ids.iterator().next());
                    assertThat(repo.config().encrypted()).isEqualTo(encrypted);
                    assertThat(repo.snapshotIds()).hasSize(WRITERS);
                    for (int vm = 0; vm < WRITERS; vm++) {
                        SnapshotManifest m = repo.latest("vm" + vm, "vda").orElseThrow();
                        Path out = shared.resolve(backend + "-out.raw");
                        new Restorer(repo).restore(RestoreRequest.of(m, out, RestoreFormat.RAW));
                        assertThat(QemuImages.identical(out, images.get(vm))).as(backend + " round " + round + " vm" + vm).isTrue();
                        Files.delete(out);
                    }
                    VerifyResult v = new Verifier(repo).verify(Optional.empty());
                    assertThat(v.problems()).isEmpty();
                    assertThat(repo.backend().list("")
                            .stream().filter(k -> k.startsWith("probes/") || k.startsWith("config")).toList())
                            .as("one config, no probe objects left").containsExactly("config");
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static RepositoryUri uri(String backend, String name) throws Exception {
        return switch (backend) {
            case "file" -> RepositoryUri.file(shared.resolve("file").resolve(name));
            case "s3proxy" -> s3proxy.repositoryUri("fleet", name);
            case "s3mock" -> s3mock.repositoryUri("fleet", name);
            case "sftp" -> sftp.repositoryUri("srv/fleet/" + name);
            default -> throw new IllegalArgumentException(backend);
        };
    }

    private static RepositoryOptions options(String backend, boolean encrypted) {
        RepositoryOptions.Builder b = RepositoryOptions.builder().parallelism(2);
        if (encrypted) {
            b.keyFile(key);
        }
        return switch (backend) {
            case "s3proxy" -> b.s3Credentials(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY).build();
            case "s3mock" -> b.s3Credentials(S3MockServer.ACCESS_KEY, S3MockServer.SECRET_KEY).build();
            case "sftp" -> sftp.options(b).build();
            default -> b.build();
        };
    }
}
