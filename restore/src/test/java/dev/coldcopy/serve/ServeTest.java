package dev.coldcopy.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coldcopy.process.ProcessResult;
import dev.coldcopy.process.ProcessRunner;
import dev.coldcopy.repository.ChunkAddress;
import dev.coldcopy.repository.SnapshotExtent;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryKeys;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.SnapshotHeader;
import dev.coldcopy.repository.SnapshotKind;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.repository.testing.ImageBackup;
import dev.coldcopy.repository.testing.TestDisks;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.repository.testing.S3ProxyServer;
import dev.coldcopy.repository.testing.SftpServer;
import dev.coldcopy.repository.testing.StartedCamel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The server against real NBD clients: qemu-img, qemu-io, nbdinfo, nbdcopy. */
class ServeTest {
    static final long MIB = 1024 * 1024;
    static final long DISK = 64 * MIB;
    static final Duration TIMEOUT = Duration.ofMinutes(2);
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path work;
    @RegisterExtension
    final StartedCamel camel = new StartedCamel();

    static Path makeImage(Path image) {
        return TestDisks.mixed(image, 13);
    }

    RepositoryOptions.Builder options() {
        return RepositoryOptions.builder().camelContext(camel.context()).parallelism(2);
    }

    static ProcessResult run(String... command) {
        return ProcessRunner.run(List.of(command), TIMEOUT);
    }

    static void assertSameAs(Path image, String uri) {
        ProcessResult r = run("qemu-img", "compare", "-f", "qcow2", "-F", "raw", image.toString(), uri);
        assertThat(r.exitCode()).as("qemu-img compare %s %s: %s %s", image, uri, r.stdout(), r.stderrOneLine()).isZero();
    }

    @Test
    void fileRepositoryServesTheSnapshotToEveryClient() throws Exception {
        Path image = makeImage(work.resolve("disk.qcow2"));
        try (Repository repo = Repository.init(RepositoryUri.parse("file:" + work.resolve("repo")), options().build())) {
            SnapshotManifest m = repo.load(ImageBackup.full(repo, image, "vm1", "vda"));
            // with read-ahead, as the command serves
            try (ChunkCache cache = new ChunkCache(repo, 64 * MIB, 2);
                 NbdServer server = NbdServer.start(ServedExport.of(m, cache), new ServeAddress.Unix(work.resolve("nbd.sock")))) {
                String named = server.uri();
                String unnamed = "nbd+unix:///?socket=" + work.resolve("nbd.sock");
                assertThat(named).isEqualTo("nbd+unix:///" + m.id().value() + "?socket=" + work.resolve("nbd.sock"));

                // qemu-img, with the printed name and with the default (empty) one
                assertSameAs(image, named);
                assertSameAs(image, unnamed);

                // nbdinfo --map: the snapshot's map (data where chunks are, hole+zero elsewhere)
                assertThat(servedMap(named)).isEqualTo(expectedMap(m));

                // nbdcopy into a raw file: byte for byte the image
                Path copy = work.resolve("copy.raw");
                Path raw = work.resolve("disk.raw");
                QemuImages.convert(image, raw, "raw");
                ProcessResult c = run("nbdcopy", named, copy.toString());
                assertThat(c.exitCode()).as(c.stderrOneLine()).isZero();
                assertThat(Files.mismatch(copy, raw)).isEqualTo(-1);

                // qemu-io reads: the pattern, the zeroed ranges, a read across data and hole
                ProcessResult io = run("qemu-io", "-r", "-f", "raw", named, "-c", "read -P 0xab 30M 2M", "-c", "read -P 0 24M 4M",
                        "-c", "read -P 0x5c 48M 1M", "-c", "read -P 0 49M 1M", "-c", "read -P 0 60M 4M", "-c", "read 7M 2M");
                assertThat(io.exitCode()).as(io.stdout() + io.stderrOneLine()).isZero();
                assertThat(io.stdout()).doesNotContain("Pattern verification failed").doesNotContain("error");

                // writes are refused: the export is read-only
                ProcessResult w = run("qemu-io", "-f", "raw", named, "-c", "write 0 4k");
                assertThat(w.exitCode() != 0 || !w.stdout().contains("wrote")).as(w.stdout() + w.stderrOneLine()).isTrue();

                // a local qcow2 overlay over the export (how a VM boots from the backup): reads come
                // through, writes land in the overlay, the export is never written
                Path overlay = work.resolve("overlay.qcow2");
                ProcessResult create = run("qemu-img", "create", "-f", "qcow2", "-b", named, "-F", "raw", overlay.toString());
                assertThat(create.exitCode()).as(create.stderrOneLine()).isZero();
                ProcessResult through = run("qemu-io", "-f", "qcow2", overlay.toString(), "-c", "read -P 0xab 30M 2M",
                        "-c", "write -P 0x77 30M 64k", "-c", "read -P 0x77 30M 64k", "-c", "read -P 0xab 31522816 64k");
                assertThat(through.exitCode()).as(through.stdout() + through.stderrOneLine()).isZero();
                assertThat(through.stdout()).doesNotContain("Pattern verification failed").doesNotContain("error");
                assertSameAs(image, named);
                // qemu-nbd re-exports it (the way to /dev/nbdX where the kernel module exists)
                Path relay = work.resolve("relay.sock");
                Process qemuNbd = new ProcessBuilder("qemu-nbd", "--read-only", "-f", "raw", "--socket", relay.toString(), named)
                        .redirectErrorStream(true).redirectOutput(work.resolve("qemu-nbd.log").toFile()).start();
                try {
                    long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                    while (!Files.exists(relay) && System.nanoTime() < until) {
                        Thread.sleep(20);
                    }
                    assertSameAs(image, "nbd+unix:///?socket=" + relay);
                } finally {
                    ProcessRunner.kill(qemuNbd);
                }

                // two clients at once
                CompletableFuture<ProcessResult> a = CompletableFuture.supplyAsync(() ->
                        run("qemu-img", "compare", "-f", "qcow2", "-F", "raw", image.toString(), named));
                CompletableFuture<ProcessResult> b = CompletableFuture.supplyAsync(() ->
                        run("nbdcopy", unnamed, work.resolve("copy2.raw").toString()));
                assertThat(a.get().exitCode()).as(a.get().stderrOneLine()).isZero();
                assertThat(b.get().exitCode()).as(b.get().stderrOneLine()).isZero();
                assertThat(Files.mismatch(work.resolve("copy2.raw"), raw)).isEqualTo(-1);
            }
            assertThat(work.resolve("nbd.sock")).as("the socket is removed on close").doesNotExist();
        }
    }

    /** nbdinfo --map as (offset, length, type) triples */
    static List<List<Long>> servedMap(String uri) throws Exception {
        ProcessResult r = run("nbdinfo", "--map", "--json", uri);
        assertThat(r.exitCode()).as(r.stderrOneLine()).isZero();
        List<List<Long>> out = new ArrayList<>();
        for (JsonNode n : JSON.readTree(r.stdout())) {
            long off = n.path("offset").asLong();
            long len = n.path("length").asLong();
            long type = n.path("type").asLong();
            if (!out.isEmpty() && out.get(out.size() - 1).get(2) == type
                    && out.get(out.size() - 1).get(0) + out.get(out.size() - 1).get(1) == off) {
                List<Long> last = out.remove(out.size() - 1);
                out.add(List.of(last.get(0), last.get(1) + len, type));
            } else {
                out.add(List.of(off, len, type));
            }
        }
        return out;
    }

    /** the manifest's extents in the same form: data 0, zero or unmapped 3 (hole, zero) */
    static List<List<Long>> expectedMap(SnapshotManifest m) {
        List<List<Long>> out = new ArrayList<>();
        long pos = 0;
        for (SnapshotExtent e : m.extents().extents()) {
            if (e.offset() > pos) {
                append(out, pos, e.offset() - pos, 3);
            }
            append(out, e.offset(), e.length(), e.isData() ? 0 : 3);
            pos = e.end();
        }
        if (pos < m.virtualSize()) {
            append(out, pos, m.virtualSize() - pos, 3);
        }
        return out;
    }

    private static void append(List<List<Long>> out, long off, long len, long type) {
        if (!out.isEmpty() && out.get(out.size() - 1).get(2) == type) {
            List<Long> last = out.remove(out.size() - 1);
            out.add(List.of(last.get(0), last.get(1) + len, type));
        } else {
            out.add(List.of(off, len, type));
        }
    }

    @Test
    void encryptedRepositoryServesAnIncrementalAsTheDiskWas() throws Exception {
        Path image = makeImage(work.resolve("disk.qcow2"));
        Path key = work.resolve("key");
        RepositoryKeys.generateKeyFile(key);
        try (Repository repo = Repository.init(RepositoryUri.parse("file:" + work.resolve("repo")), options().keyFile(key).build())) {
            SnapshotManifest full = repo.load(ImageBackup.full(repo, image, "vm1", "vda"));
            QemuImages.io(image, "write -P 0x11 3M 1M", "write -z 40M 1M");
            SnapshotManifest inc = repo.load(ImageBackup.incremental(repo, image, full,
                    List.of(new ImageBackup.Range(3 * MIB, MIB), new ImageBackup.Range(40 * MIB, MIB))));
            try (NbdServer server = NbdServer.start(ServedExport.of(inc, new ChunkCache(repo, 8 * MIB)),
                    new ServeAddress.Unix(work.resolve("nbd.sock")))) {
                assertSameAs(image, server.uri());
            }
            // a delta cannot be served alone: its unchanged ranges are only in its base
            SnapshotManifest delta = repo.load(ImageBackup.delta(repo, image, "vm1", "vda", "cp-x", List.of(new ImageBackup.Range(0, MIB))));
            assertThatThrownBy(() -> ServedExport.of(delta, new ChunkCache(repo, MIB)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("delta");
        }
    }

    @Test
    void aDamagedChunkIsEioForItsRangeOnlyAndNamedInTheLog() throws Exception {
        Path image = makeImage(work.resolve("disk.qcow2"));
        Path repoDir = work.resolve("repo");
        try (Repository repo = Repository.init(RepositoryUri.parse("file:" + repoDir), options().build())) {
            SnapshotManifest m = repo.load(ImageBackup.full(repo, image, "vm1", "vda"));
            // the chunk holding the 0xab pattern at 30M
            SnapshotExtent hit = m.extents().extents().stream().filter(e -> e.isData() && e.offset() <= 30 * MIB && e.end() > 30 * MIB)
                    .findFirst().orElseThrow();
            ChunkAddress damaged = hit.chunk();
            Path file = repoDir.resolve(damaged.key());
            byte[] bytes = Files.readAllBytes(file);
            bytes[bytes.length / 2] ^= 0x40;
            Files.write(file, bytes);

            // read-ahead fetches the damaged chunk too: its failure must not stick nor hide the client's EIO
            try (ChunkCache cache = new ChunkCache(repo, 64 * MIB, 2);
                 NbdServer server = NbdServer.start(ServedExport.of(m, cache), new ServeAddress.Unix(work.resolve("nbd.sock")))) {
                ProcessResult bad = run("qemu-io", "-r", "-f", "raw", server.uri(), "-c", "read 30M 64k");
                assertThat(bad.stdout() + bad.stderr()).contains("Input/output error");
                // everything else still reads right, on a new connection and on the same one
                ProcessResult good = run("qemu-io", "-r", "-f", "raw", server.uri(), "-c", "read -P 0x5c 48M 1M", "-c", "read 30M 4k",
                        "-c", "read -P 0 60M 1M");
                assertThat(good.stdout()).contains("Input/output error").doesNotContain("Pattern verification failed");
                assertThat(java.util.regex.Pattern.compile("read \\d+/\\d+ bytes").matcher(good.stdout()).results().count())
                        .as(good.stdout()).isEqualTo(2);
                assertThat(server.clients()).isLessThanOrEqualTo(1);
            }
            // what the server logs for the failed read names the chunk (the CLI test checks the log line itself)
            SnapshotImage served = new SnapshotImage(m, new ChunkCache(repo, 64 * MIB));
            assertThatThrownBy(() -> served.read(30 * MIB, 4096, new byte[4096], 0)).hasMessageContaining(damaged.hex());
        }
    }

    @Test
    void aClientLeavingMidReadDoesNotDisturbOthers() throws Exception {
        Path image = makeImage(work.resolve("disk.qcow2"));
        try (Repository repo = Repository.init(RepositoryUri.parse("file:" + work.resolve("repo")), options().build())) {
            SnapshotManifest m = repo.load(ImageBackup.full(repo, image, "vm1", "vda"));
            try (NbdServer server = NbdServer.start(ServedExport.of(m, new ChunkCache(repo, 64 * MIB)),
                    new ServeAddress.Unix(work.resolve("nbd.sock")))) {
                try (RawClient quitter = RawClient.connect(work.resolve("nbd.sock"))) {
                    quitter.sendRead(0, 32 * 1024 * 1024);
                    quitter.readSome(4096);
                }
                assertSameAs(image, server.uri());
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (server.clients() > 0 && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertThat(server.clients()).isZero();
            }
        }
    }

    /** a VM (TCG, no guest OS) with a qcow2 overlay over the export as its disk; qemu-io through the monitor */
    @Test
    void aVmRunsOnAnOverlayOverTheExport() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(new java.io.File("/usr/bin/qemu-system-x86_64").canExecute(),
                "qemu-system-x86_64 is not installed (bin/setup --test installs it)");
        Path image = makeImage(work.resolve("disk.qcow2"));
        try (Repository repo = Repository.init(RepositoryUri.parse("file:" + work.resolve("repo")), options().build())) {
            SnapshotManifest m = repo.load(ImageBackup.full(repo, image, "vm1", "vda"));
            try (ChunkCache cache = new ChunkCache(repo, 64 * MIB, 2);
                 NbdServer server = NbdServer.start(ServedExport.of(m, cache), new ServeAddress.Unix(work.resolve("nbd.sock")))) {
                Path overlay = work.resolve("vm-overlay.qcow2");
                ProcessResult create = run("qemu-img", "create", "-f", "qcow2", "-b", server.uri(), "-F", "raw", overlay.toString());
                assertThat(create.exitCode()).as(create.stderrOneLine()).isZero();
                Process vm = new ProcessBuilder("qemu-system-x86_64", "-machine", "pc", "-accel", "tcg", "-m", "64", "-nodefaults",
                        "-display", "none", "-serial", "none", "-monitor", "stdio",
                        "-drive", "file=" + overlay + ",format=qcow2,if=none,id=drive0", "-device", "virtio-blk-pci,drive=drive0")
                        .redirectErrorStream(true).start();
                try {
                    var in = new java.io.PrintWriter(vm.getOutputStream(), true);
                    in.println("qemu-io drive0 \"read -P 0xab 30M 2M\"");
                    in.println("qemu-io drive0 \"read -P 0x5c 48M 1M\"");
                    in.println("qemu-io drive0 \"read -P 0 49M 1M\"");
                    in.println("qemu-io drive0 \"write -P 0x66 0 64k\"");
                    in.println("qemu-io drive0 \"read -P 0x66 0 64k\"");
                    in.println("quit");
                    String out = new String(vm.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                    assertThat(vm.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
                    assertThat(java.util.regex.Pattern.compile("read \\d+/\\d+ bytes").matcher(out).results().count()).as(out).isEqualTo(4);
                    assertThat(out).contains("wrote 65536/65536").doesNotContain("Pattern verification failed").doesNotContain("error");
                } finally {
                    ProcessRunner.kill(vm);
                }
                // the guest's write stayed in the overlay
                assertSameAs(image, server.uri());
            }
        }
    }

    @Test
    void sftpRepository() throws Exception {
        Path image = makeImage(work.resolve("disk.qcow2"));
        try (SftpServer sftp = SftpServer.start(Files.createDirectories(work.resolve("sftp")))) {
            try (Repository repo = Repository.init(sftp.repositoryUri("srv/backups/serve"), sftp.options(options()).build())) {
                SnapshotManifest m = repo.load(ImageBackup.full(repo, image, "vm1", "vda"));
                try (ChunkCache cache = new ChunkCache(repo, 16 * MIB, 2);
                     NbdServer server = NbdServer.start(ServedExport.of(m, cache), new ServeAddress.Unix(work.resolve("nbd.sock")))) {
                    assertSameAs(image, server.uri());
                }
            }
        }
    }

    @Test
    void tcpOnLoopbackAndS3Repository() throws Exception {
        Path image = makeImage(work.resolve("disk.qcow2"));
        try (S3ProxyServer s3 = S3ProxyServer.start(Files.createDirectories(work.resolve("s3")))) {
            s3.createBucket("backups");
            RepositoryOptions opts = options().s3Credentials(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY).build();
            try (Repository repo = Repository.init(s3.repositoryUri("backups", "cc"), opts)) {
                SnapshotManifest m = repo.load(ImageBackup.full(repo, image, "vm1", "vda"));
                // no cache: every read goes to S3
                try (NbdServer server = NbdServer.start(ServedExport.of(m, new ChunkCache(repo, 0)), new ServeAddress.Tcp("127.0.0.1", 0))) {
                    assertThat(server.uri()).startsWith("nbd://127.0.0.1:").endsWith("/" + m.id().value());
                    assertSameAs(image, server.uri());

                    // S3 goes away: reads fail with EIO; it comes back: the same reads succeed
                    s3.stop();
                    ProcessResult down = run("qemu-io", "-r", "-f", "raw", server.uri(), "-c", "read -P 0xab 30M 64k");
                    assertThat(down.stdout() + down.stderr()).contains("Input/output error");
                    s3.start();
                    ProcessResult up = run("qemu-io", "-r", "-f", "raw", server.uri(), "-c", "read -P 0xab 30M 64k");
                    assertThat(up.exitCode()).isZero();
                    assertThat(up.stdout()).doesNotContain("error").doesNotContain("Pattern verification failed").contains("read 65536/65536");
                }
            }
        }
    }
}
