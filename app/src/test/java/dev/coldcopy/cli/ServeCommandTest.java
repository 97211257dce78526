package dev.coldcopy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.nbd.testing.TlsCertificates;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.process.ProcessResult;
import dev.coldcopy.process.ProcessRunner;
import dev.coldcopy.service.ServiceHarness;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** coldcopy serve from the command line, read by real NBD clients. */
class ServeCommandTest {
    private static final long MIB = 1 << 20;
    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    @TempDir
    Path dir;

    /** a running serve command: its output so far and its exit status when it ends */
    record Serving(StringWriter out, StringWriter err, CompletableFuture<Integer> exit) {
        String uri() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline && !exit.isDone()) {
                for (String line : out.toString().split("\\R")) {
                    if (line.startsWith("nbd")) {
                        return line.strip();
                    }
                }
                Thread.sleep(20);
            }
            throw new AssertionError("serve printed no URI: " + out + err);
        }
    }

    static Serving serve(String... args) {
        CommandLine cli = ColdcopyCommand.newCommandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        String[] all = Stream.concat(Stream.of("serve"), Stream.of(args)).toArray(String[]::new);
        return new Serving(out, err, CompletableFuture.supplyAsync(() -> cli.execute(all)));
    }

    private Path backedUpDisk(String repo) throws IOException {
        Path images = Files.createDirectories(dir.resolve("images"));
        Path disk = QemuImages.createQcow2(images.resolve("web.qcow2"), 32 * MIB);
        ServiceHarness.writeRandom(disk, 2 * MIB, (int) MIB, 7, dir);
        QemuImages.writePattern(disk, 0x5a, 9 * MIB, 3 * MIB);
        CliRun backup = CliRun.coldcopy("backup", "--repo", repo, "--vm", "web", "--disk", "vda=" + disk, "--allow-root", images.toString(),
                "-Dcoldcopy.home=" + dir.resolve("home"));
        assertThat(backup.exit()).as(backup.err()).isZero();
        return disk;
    }

    private static ProcessResult run(String... command) {
        return ProcessRunner.run(List.of(command), TIMEOUT);
    }

    @Test
    void servesOnASocketUntilTheLastClientLeaves() throws Exception {
        String repo = "file:" + dir.resolve("repo");
        Path disk = backedUpDisk(repo);
        Path socket = dir.resolve("web.sock");
        Serving s = serve("--repo", repo, "--vm", "web", "--disk", "vda", "--socket", socket.toString(), "--once", "--cache-size", "8M");
        String uri = s.uri();
        assertThat(uri).startsWith("nbd+unix:///").endsWith("?socket=" + socket);
        assertThat(s.out().toString()).contains("serving web/vda snapshot").contains("full, 32.0 MiB, read-only");
        ProcessResult compare = run("qemu-img", "compare", "-f", "qcow2", "-F", "raw", disk.toString(), uri);
        assertThat(compare.exitCode()).as(compare.stdout() + compare.stderrOneLine()).isZero();
        // --once: the first client gone, serve ends and removes its socket
        assertThat(s.exit().get(30, TimeUnit.SECONDS)).as(s.err().toString()).isZero();
        assertThat(socket).doesNotExist();
    }

    @Test
    void tcpLoopbackAndADamagedChunkIsAnIoErrorNamedInTheLog() throws Exception {
        String repo = "file:" + dir.resolve("repo");
        backedUpDisk(repo);
        Path chunk;
        try (Stream<Path> files = Files.walk(dir.resolve("repo").resolve("chunks"))) {
            chunk = files.filter(Files::isRegularFile).max((a, b) -> Long.compare(a.toFile().length(), b.toFile().length())).orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(chunk);
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(chunk, bytes);

        PrintStream err = System.err;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        System.setErr(new PrintStream(new Tee(err, log), true));
        try {
            Serving s = serve("--repo", repo, "--vm", "web", "--disk", "vda", "--listen", "127.0.0.1:0", "--once");
            String uri = s.uri();
            assertThat(uri).matches("nbd://127\\.0\\.0\\.1:\\d+/\\S+");
            ProcessResult copy = run("nbdcopy", uri, dir.resolve("copy.raw").toString());
            assertThat(copy.exitCode()).isNotZero();
            assertThat(copy.stderr()).contains("Input/output error");
            assertThat(s.exit().get(30, TimeUnit.SECONDS)).isZero();
        } finally {
            System.setErr(err);
        }
        assertThat(log.toString()).contains(chunk.getFileName().toString());
    }

    @Test
    void refusesWhatItCannotServeSafelyWithOneLine() throws IOException {
        String repo = "file:" + dir.resolve("repo");
        backedUpDisk(repo);
        CliRun open = CliRun.coldcopy("serve", "--repo", repo, "--vm", "web", "--disk", "vda", "--listen", "0.0.0.0:0");
        assertThat(open.exit()).isEqualTo(1);
        assertThat(open.err().strip()).startsWith("coldcopy serve: refusing to listen on 0.0.0.0: it is not a loopback address")
                .doesNotContain("\n");
        CliRun both = CliRun.coldcopy("serve", "--repo", repo, "--vm", "web", "--disk", "vda", "--listen", "127.0.0.1:0",
                "--socket", dir.resolve("s").toString());
        assertThat(both.exit()).isEqualTo(2);
        assertThat(both.err()).contains("mutually exclusive");
        CliRun size = CliRun.coldcopy("serve", "--repo", repo, "--vm", "web", "--disk", "vda", "--cache-size", "lots");
        assertThat(size.exit()).isEqualTo(1);
        assertThat(size.err().strip()).isEqualTo("coldcopy serve: 'lots' is not a size (examples: 256M, 1G, 4096)");
        CliRun none = CliRun.coldcopy("serve", "--repo", repo, "--vm", "db", "--disk", "vda");
        assertThat(none.exit()).isEqualTo(1);
        assertThat(none.err()).contains("no snapshot of db/vda");
    }

    @Test
    void tlsListensBeyondLoopbackAndServesOnlyClientsThatStartTls() throws Exception {
        String repo = "file:" + dir.resolve("repo");
        Path disk = backedUpDisk(repo);
        Path pki = TlsCertificates.create(dir.resolve("pki"));
        PrintStream err = System.err;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        System.setErr(new PrintStream(new Tee(err, log), true));
        try {
            Serving s = serve("--repo", repo, "--vm", "web", "--disk", "vda", "--listen", "0.0.0.0:0", "--once",
                    "--tls-cert", pki.resolve("server-cert.pem").toString(), "--tls-key", pki.resolve("server-key.pem").toString());
            String uri = s.uri();
            assertThat(uri).matches("nbds://0\\.0\\.0\\.0:\\d+/\\S+");
            String port = uri.replaceAll("nbds://0\\.0\\.0\\.0:(\\d+)/.*", "$1");
            ProcessResult plain = run("nbdinfo", "nbd://127.0.0.1:" + port + "/");
            assertThat(plain.exitCode()).isNotZero();
            Path copy = dir.resolve("copy.raw");
            ProcessResult tls = run("nbdcopy", "nbds://127.0.0.1:" + port + "/?tls-certificates=" + pki, copy.toString());
            assertThat(tls.exitCode()).as(tls.stderrOneLine()).isZero();
            Path raw = dir.resolve("disk.raw");
            assertThat(run("qemu-img", "convert", "-O", "raw", disk.toString(), raw.toString()).exitCode()).isZero();
            assertThat(Files.mismatch(copy, raw)).isEqualTo(-1);
            assertThat(s.exit().get(30, TimeUnit.SECONDS)).as(s.err().toString()).isZero();
        } finally {
            System.setErr(err);
        }
        assertThat(log.toString()).contains("TLS only").doesNotContain("server-key.pem").doesNotContain("PRIVATE KEY");

        String cert = pki.resolve("server-cert.pem").toString();
        CliRun keyless = CliRun.coldcopy("serve", "--repo", repo, "--vm", "web", "--disk", "vda", "--listen", "0.0.0.0:0", "--tls-cert", cert);
        assertThat(keyless.exit()).isEqualTo(1);
        assertThat(keyless.err().strip()).isEqualTo("coldcopy serve: --tls-cert and --tls-key go together: give both, or neither");
        CliRun unix = CliRun.coldcopy("serve", "--repo", repo, "--vm", "web", "--disk", "vda", "--tls-cert", cert,
                "--tls-key", pki.resolve("server-key.pem").toString());
        assertThat(unix.exit()).isEqualTo(1);
        assertThat(unix.err().strip()).startsWith("coldcopy serve: --tls-cert/--tls-key need --listen HOST:PORT").doesNotContain("\n");
        CliRun wrongKey = CliRun.coldcopy("serve", "--repo", repo, "--vm", "web", "--disk", "vda", "--listen", "0.0.0.0:0",
                "--tls-cert", cert, "--tls-key", pki.resolve("ca-key.pem").toString());
        assertThat(wrongKey.exit()).isEqualTo(1);
        assertThat(wrongKey.err().strip()).contains("does not belong to the certificate").doesNotContain("\n");
    }

    @Test
    void aDeltaIsServedOntoItsBaseAndRefusedWithoutIt() throws Exception {
        String repo = "file:" + dir.resolve("repo");
        Path disk = backedUpDisk(repo);
        assertThat(run("qemu-img", "bitmap", "--add", disk.toString(), "libvirt-cp1").exitCode()).isZero();
        Path atCheckpoint = Files.copy(disk, dir.resolve("at-cp1.qcow2"));
        ServiceHarness.writeRandom(disk, 20 * MIB, (int) MIB, 8, dir);
        QemuImages.writePattern(disk, 0x00, 9 * MIB, MIB);
        CliRun delta = CliRun.coldcopy("backup", "--repo", repo, "--vm", "web", "--disk", "vda=" + disk, "--checkpoint", "libvirt-cp1",
                "--allow-root", disk.getParent().toString(), "-Dcoldcopy.home=" + dir.resolve("home"));
        assertThat(delta.out()).as(delta.err()).contains(" delta ");
        String id = delta.out().strip().split(" ")[1];

        Path socket = dir.resolve("delta.sock");
        Serving s = serve("--repo", repo, "--vm", "web", "--disk", "vda", "--snapshot", id, "--onto", atCheckpoint.toString(),
                "--socket", socket.toString(), "--once");
        String uri = s.uri();
        assertThat(s.out().toString()).contains("(delta onto " + atCheckpoint + ", 32.0 MiB, read-only)");
        ProcessResult compare = run("qemu-img", "compare", "-f", "qcow2", "-F", "raw", disk.toString(), uri);
        assertThat(compare.exitCode()).as(compare.stdout() + compare.stderrOneLine()).isZero();
        assertThat(s.exit().get(30, TimeUnit.SECONDS)).as(s.err().toString()).isZero();
        assertThat(socket).doesNotExist();

        CliRun alone = CliRun.coldcopy("serve", "--repo", repo, "--vm", "web", "--disk", "vda", "--snapshot", id);
        assertThat(alone.exit()).isEqualTo(1);
        assertThat(alone.err().strip()).contains("is a delta since checkpoint 'libvirt-cp1'").contains("--onto BASE").doesNotContain("\n");
        CliRun fullOnto = CliRun.coldcopy("serve", "--repo", repo, "--vm", "web", "--disk", "vda", "--snapshot",
                firstSnapshot(repo), "--onto", atCheckpoint.toString());
        assertThat(fullOnto.exit()).isEqualTo(1);
        assertThat(fullOnto.err().strip()).contains("--onto applies to delta snapshots only").doesNotContain("\n");

        // without --onto, "latest" is the newest snapshot that restores alone (the full), not the newer delta
        Path latest = dir.resolve("latest.qcow2");
        CliRun restoreLatest = CliRun.coldcopy("restore", "--repo", repo, "--vm", "web", "--disk", "vda", "--output",
                latest.toString());
        assertThat(restoreLatest.exit()).as(restoreLatest.err()).isZero();
        assertThat(restoreLatest.out()).contains(firstSnapshot(repo));
        ProcessResult same = run("qemu-img", "compare", latest.toString(), atCheckpoint.toString());
        assertThat(same.exitCode()).as(same.stdout() + same.stderrOneLine()).isZero();
    }

    /** the oldest snapshot's id (the full backup) */
    private static String firstSnapshot(String repo) {
        CliRun list = CliRun.coldcopy("snapshots", "--repo", repo, "--json");
        assertThat(list.exit()).as(list.err()).isZero();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"id\"\\s*:\\s*\"([^\"]+)\"").matcher(list.out());
        List<String> ids = new java.util.ArrayList<>();
        while (m.find()) {
            ids.add(m.group(1));
        }
        return ids.stream().sorted().findFirst().orElseThrow();
    }

    /** copies everything written to two streams */
    static final class Tee extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        Tee(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public synchronized void write(int c) throws IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public synchronized void write(byte[] buf, int off, int len) throws IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }
    }
}
