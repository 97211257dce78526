package dev.coldcopy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coldcopy.nbd.testing.NbdkitServer;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.nbd.testing.QemuNbdServer;
import dev.coldcopy.nbd.testing.TlsCertificates;
import dev.coldcopy.testing.Tools;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code coldcopy map} prints what {@code nbdinfo --map} prints, for the same qemu-nbd export. */
class MapCommandTest {

    @TempDir
    Path tmp;

    static CliRun coldcopy(String... args) {
        return CliRun.coldcopy(args);
    }

    static String nbdinfo(String... args) {
        List<String> cmd = new ArrayList<>(List.of("nbdinfo"));
        cmd.addAll(List.of(args));
        return Tools.run(Duration.ofMinutes(1), cmd);
    }

    /** Data before the bitmap, then data, zeroes and a write-zeroes over old data after it. */
    Path image() {
        Path img = QemuImages.createQcow2(tmp.resolve("disk.qcow2"), 64L << 20);
        QemuImages.io(img, "write -P 0xab 0 1M", "write -z 4M 1M", "write -P 0x11 30M 3M");
        QemuImages.addBitmap(img, "b1", false);
        QemuImages.io(img, "write -P 0xcd 8M 64k", "write -z 2M 128k", "write -P 0 20M 64k",
                "write -z 31M 512k");
        return img;
    }

    @Test
    void textAndJsonEqualNbdinfoForAllocationAndDirtyBitmap() throws Exception {
        try (QemuNbdServer server = QemuNbdServer.builder(image()).bitmap("b1").start()) {
            String uri = server.uri().toString();
            ObjectMapper json = new ObjectMapper();

            CliRun base = coldcopy("map", uri);
            assertThat(base.exit()).as(base.err()).isZero();
            assertThat(base.out()).isEqualTo(nbdinfo("--map", uri)).contains("hole,zero").contains("data");

            CliRun dirty = coldcopy("map", uri, "--context", "qemu:dirty-bitmap:b1");
            assertThat(dirty.exit()).as(dirty.err()).isZero();
            assertThat(dirty.out()).isEqualTo(nbdinfo("--map=qemu:dirty-bitmap:b1", uri)).contains("dirty").contains("clean");

            CliRun baseJson = coldcopy("map", uri, "--json");
            assertThat(json.readTree(baseJson.out())).isEqualTo(json.readTree(nbdinfo("--map", "--json", uri)));
            CliRun dirtyJson = coldcopy("map", "--json", "--context=qemu:dirty-bitmap:b1", uri);
            assertThat(json.readTree(dirtyJson.out()))
                    .isEqualTo(json.readTree(nbdinfo("--map=qemu:dirty-bitmap:b1", "--json", uri)));
            assertThat(dirtyJson.out()).as("same layout too").isEqualTo(nbdinfo("--map=qemu:dirty-bitmap:b1", "--json", uri));
        }
    }

    @Test
    void allocationDepthOfABackingChainEqualsNbdinfo() {
        Path base = QemuImages.createQcow2(tmp.resolve("base.qcow2"), 16L << 20);
        QemuImages.writePattern(base, 1, 0, 1 << 20);
        Path top = tmp.resolve("top.qcow2");
        Tools.run(Duration.ofMinutes(1), List.of("qemu-img", "create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "qcow2",
                top.toString()));
        QemuImages.writePattern(top, 3, 4 << 20, 1 << 20);
        try (QemuNbdServer server = QemuNbdServer.builder(top).arg("--allocation-depth").start()) {
            String uri = server.uri().toString();
            CliRun r = coldcopy("map", uri, "--context", "qemu:allocation-depth");
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(r.out()).isEqualTo(nbdinfo("--map=qemu:allocation-depth", uri))
                    .contains("backing depth 2").contains("local").contains("absent");
        }
    }

    @Test
    void missingExportOrContextFailsWithOneLine() {
        try (QemuNbdServer server = QemuNbdServer.builder(image()).start()) {
            CliRun missing = coldcopy("map", server.uri("nope").toString());
            assertThat(missing.exit()).isNotZero();
            assertThat(missing.err()).startsWith("coldcopy map: ").contains("nope").hasLineCount(1);
            assertThat(missing.out()).isEmpty();

            CliRun context = coldcopy("map", server.uri().toString(), "--context", "qemu:dirty-bitmap:b1");
            assertThat(context.exit()).isNotZero();
            assertThat(context.err()).startsWith("coldcopy map: ")
                    .contains("does not offer meta context 'qemu:dirty-bitmap:b1'").hasLineCount(1);

            CliRun badUri = coldcopy("map", "http://example.invalid/x");
            assertThat(badUri.exit()).isNotZero();
            assertThat(badUri.err()).startsWith("coldcopy map: ").hasLineCount(1);
        }
    }

    @Test
    void emptyExportEqualsNbdinfoByteForByte() {
        try (NbdkitServer server = NbdkitServer.builder("memory").param("size=0").start()) {
            String uri = server.uri().toString();
            CliRun text = coldcopy("map", uri);
            assertThat(text.exit()).as(text.err()).isZero();
            assertThat(text.out()).isEqualTo(nbdinfo("--map", uri));
            CliRun json = coldcopy("map", "--json", uri);
            assertThat(json.exit()).as(json.err()).isZero();
            assertThat(json.out()).isEqualTo(nbdinfo("--map", "--json", uri));
        }
    }

    @Test
    void exportBehindTheCowFilterEqualsNbdinfo() {
        // the cow filter advertises a maximum block size of 0xFFFFFFFF (no limit)
        try (NbdkitServer server = NbdkitServer.builder("data").filter("cow")
                .param("data=1 2 3 @1048576 4 5 6 @4194304 0").param("size=8M").start()) {
            String uri = server.uri().toString();
            CliRun r = coldcopy("map", uri);
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(r.out()).isEqualTo(nbdinfo("--map", uri)).contains("data");
        }
    }

    @Test
    void serverKilledDuringMapGivesOnlyTheOneLineReason() throws Exception {
        PrintStream realErr = System.err;
        ByteArrayOutputStream logged = new ByteArrayOutputStream();
        try (NbdkitServer server = NbdkitServer.builder("memory").filter("delay").param("size=1M")
                .param("delay-extents=30").start()) {
            System.setErr(new PrintStream(logged, true));
            CompletableFuture<CliRun> run = CompletableFuture.supplyAsync(() -> coldcopy("map", server.uri().toString()));
            Thread.sleep(1500);
            server.kill();
            CliRun r = run.get(30, TimeUnit.SECONDS);
            assertThat(r.exit()).isNotZero();
            assertThat(r.err()).startsWith("coldcopy map: ").hasLineCount(1);
        } finally {
            System.setErr(realErr);
        }
        assertThat(logged.toString()).as("nothing logged besides the reason").doesNotContain("WARN").doesNotContain("failed");
    }

    @Test
    void listPrintsTheExportsAndDescriptionsNbdinfoLists() throws Exception {
        try (NbdkitServer server = NbdkitServer.builder("memory").filter("exportname").param("size=1M")
                .param("exportname=alpha").param("exportname=beta").param("exportdesc=fixed:scratch disk")
                .param("exportname-list=explicit").start()) {
            String uri = server.uri().toString();
            CliRun text = coldcopy("map", "--list", uri);
            assertThat(text.exit()).as(text.err()).isZero();
            List<String> nbdinfoExportLines = nbdinfo("--list", uri).lines()
                    .filter(l -> l.startsWith("export=") || l.startsWith("\tdescription:")).toList();
            assertThat(text.out().lines().toList()).isEqualTo(nbdinfoExportLines)
                    .contains("export=\"alpha\":", "\tdescription: scratch disk");

            CliRun json = coldcopy("map", "--list", "--json", uri);
            assertThat(json.exit()).as(json.err()).isZero();
            ObjectMapper mapper = new ObjectMapper();
            List<List<String>> expected = new ArrayList<>();
            mapper.readTree(nbdinfo("--list", "--json", uri)).get("exports")
                    .forEach(e -> expected.add(List.of(e.get("export-name").asText(), e.get("description").asText())));
            List<List<String>> got = new ArrayList<>();
            mapper.readTree(json.out()).forEach(e -> got.add(List.of(e.get("export-name").asText(), e.get("description").asText())));
            assertThat(got).isEqualTo(expected).hasSize(2);
        }
    }

    @Test
    void tlsWithPemFilesFromTheCommandLine() {
        Path pki = TlsCertificates.createClient(TlsCertificates.create(tmp.resolve("pki")));
        try (QemuNbdServer server = QemuNbdServer.builder(image()).tls(pki, true).start()) {
            String uri = server.uri().toString();
            assertThat(uri).startsWith("nbds://");
            String expected = nbdinfo("--map", uri + "?tls-certificates=" + pki);

            CliRun ok = coldcopy("map", uri, "--tls-ca-file", pki.resolve("ca-cert.pem").toString(),
                    "--tls-cert-file", pki.resolve("client-cert.pem").toString(),
                    "--tls-key-file", pki.resolve("client-key-pkcs1.pem").toString());
            assertThat(ok.exit()).as(ok.err()).isZero();
            assertThat(ok.out()).isEqualTo(expected);

            CliRun untrusted = coldcopy("map", uri);
            assertThat(untrusted.exit()).isNotZero();
            assertThat(untrusted.err()).startsWith("coldcopy map: ").hasLineCount(1)
                    .contains("not signed by a CA this client trusts").contains("--tls-ca-file")
                    .doesNotContain("PKIX path building failed");

            CliRun noClientCert = coldcopy("map", uri, "--tls-ca-file", pki.resolve("ca-cert.pem").toString());
            assertThat(noClientCert.exit()).isNotZero();
            assertThat(noClientCert.err()).startsWith("coldcopy map: ").hasLineCount(1)
                    .contains("the server probably requires a client certificate").contains("--tls-cert-file");

            CliRun wrongKey = coldcopy("map", uri, "--tls-ca-file", pki.resolve("ca-cert.pem").toString(),
                    "--tls-cert-file", pki.resolve("client-cert.pem").toString(),
                    "--tls-key-file", pki.resolve("server-key.pem").toString());
            assertThat(wrongKey.exit()).isNotZero();
            assertThat(wrongKey.err()).startsWith("coldcopy map: ").hasLineCount(1)
                    .contains("does not belong to the certificate");
        }
    }

    @Test
    void tlsWithAPreSharedKeyFromTheCommandLine() {
        Path keys = tmp.resolve("keys.psk");
        Tools.run(Duration.ofSeconds(30), List.of("psktool", "-u", "alice", "-p", keys.toString()));
        try (NbdkitServer server = NbdkitServer.builder("data").param("data=1 2 3 @1048576 4 5 6").param("size=4M")
                .tlsPsk(keys).start()) {
            String uri = server.uri().toString();
            String expected = nbdinfo("--map", uri.replace("nbds://", "nbds://alice@") + "?tls-psk-file=" + keys);
            CliRun ok = coldcopy("map", uri, "--tls-psk-file", keys.toString(), "--tls-username", "alice");
            assertThat(ok.exit()).as(ok.err()).isZero();
            assertThat(ok.out()).isEqualTo(expected).contains("data");

            CliRun certificates = coldcopy("map", uri);
            assertThat(certificates.exit()).isNotZero();
            assertThat(certificates.err()).startsWith("coldcopy map: ").hasLineCount(1).contains("--tls-psk-file");
        }
    }

    @Test
    void listEscapesControlCharactersAsNbdinfoAndOmitsMissingDescriptionsInJson() throws Exception {
        try (NbdkitServer server = NbdkitServer.builder("memory").filter("exportname").param("size=1M")
                .param("exportname=tab\tx").param("exportname=nl\nexport=\"fake\":").param("exportname=q\"b\\s")
                .param("exportname-list=explicit").start()) {
            String uri = server.uri().toString();
            CliRun text = coldcopy("map", "--list", uri);
            assertThat(text.exit()).as(text.err()).isZero();
            List<String> nbdinfoExportLines = nbdinfo("--list", uri).lines().filter(l -> l.startsWith("export=")).toList();
            assertThat(text.out().lines().toList()).isEqualTo(nbdinfoExportLines)
                    .contains("export=\"tab\\u0009x\":").hasSize(3);

            CliRun json = coldcopy("map", "--list", "--json", uri);
            assertThat(json.exit()).as(json.err()).isZero();
            ObjectMapper mapper = new ObjectMapper();
            List<String> names = new ArrayList<>();
            mapper.readTree(json.out()).forEach(e -> {
                names.add(e.get("export-name").asText());
                assertThat(e.has("description")).as("description of an export without one").isFalse();
            });
            assertThat(names).containsExactly("tab\tx", "nl\nexport=\"fake\":", "q\"b\\s");
            mapper.readTree(nbdinfo("--list", "--json", uri)).get("exports")
                    .forEach(e -> assertThat(e.has("description")).isFalse());
        }
    }

    @Test
    void tlsOptionsWithAPlainUriAreRefused() {
        Path pki = TlsCertificates.create(tmp.resolve("pki"));
        try (NbdkitServer server = NbdkitServer.builder("memory").param("size=1M").tcp().start()) {
            String uri = server.uri().toString();
            CliRun run = coldcopy("map", uri, "--tls-ca-file", pki.resolve("ca-cert.pem").toString());
            assertThat(run.exit()).isNotZero();
            assertThat(run.out()).isEmpty();
            assertThat(run.err()).hasLineCount(1)
                    .startsWith("coldcopy map: TLS options given but the URI is nbd://: use nbds://127.0.0.1:");
        }
    }

    @Test
    void aPlainUriAgainstATlsServerSaysToUseNbds() {
        Path pki = TlsCertificates.create(tmp.resolve("pki"));
        try (NbdkitServer server = NbdkitServer.builder("memory").param("size=1M").tlsCertificates(pki, false).start()) {
            String plain = server.uri().toString().replace("nbds://", "nbd://");
            CliRun run = coldcopy("map", plain);
            assertThat(run.exit()).isNotZero();
            assertThat(run.err()).hasLineCount(1).contains("the server requires TLS: use nbds://127.0.0.1:")
                    .contains("--tls-ca-file");
        }
    }
}
