package dev.coldcopy.serve;

import static dev.coldcopy.nbd.protocol.NbdProtocol.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.nbd.protocol.NbdClient;
import dev.coldcopy.nbd.protocol.NbdClientOptions;
import dev.coldcopy.nbd.protocol.NbdException;
import dev.coldcopy.nbd.protocol.NbdOptionException;
import dev.coldcopy.nbd.protocol.NbdUri;
import dev.coldcopy.nbd.testing.TlsCertificates;
import dev.coldcopy.process.ProcessResult;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.repository.testing.ImageBackup;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.repository.testing.StartedCamel;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** A TLS-only server (NBD_OPT_STARTTLS) against libnbd, qemu and our own client, with a PKI made by openssl. */
class ServeTlsTest {
    static final long MIB = 1024 * 1024;

    @TempDir
    Path work;
    @RegisterExtension
    final StartedCamel camel = new StartedCamel();

    @Test
    void clientsThatStartTlsReadTheSnapshotAndOthersAreRefused() throws Exception {
        Path pki = TlsCertificates.create(work.resolve("pki"));
        Path image = ServeTest.makeImage(work.resolve("disk.qcow2"));
        Path raw = work.resolve("disk.raw");
        QemuImages.convert(image, raw, "raw");
        PrintStream err = System.err;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        System.setErr(new PrintStream(log, true));
        try (Repository repo = Repository.init(RepositoryUri.parse("file:" + work.resolve("repo")),
                RepositoryOptions.builder().camelContext(camel.context()).parallelism(2).build())) {
            SnapshotManifest m = repo.load(ImageBackup.full(repo, image, "vm1", "vda"));
            ServerTls tls = ServerTls.fromPem(pki.resolve("server-cert.pem"), pki.resolve("server-key.pem"));
            try (ChunkCache cache = new ChunkCache(repo, 64 * MIB, 2);
                 NbdServer server = NbdServer.start(ServedExport.of(m, cache), new ServeAddress.Tcp("127.0.0.1", 0), tls)) {
                int port = ((ServeAddress.Tcp) server.address()).port();
                assertThat(server.uri()).isEqualTo("nbds://127.0.0.1:" + port + "/" + m.id().value());
                String libnbd = server.uri() + "?tls-certificates=" + pki;

                // libnbd: nbdcopy byte for byte, nbdinfo --map the snapshot's map
                Path copy = work.resolve("copy.raw");
                ProcessResult c = ServeTest.run("nbdcopy", libnbd, copy.toString());
                assertThat(c.exitCode()).as(c.stderrOneLine()).isZero();
                assertThat(Files.mismatch(copy, raw)).isEqualTo(-1);
                assertThat(ServeTest.servedMap(libnbd)).isEqualTo(ServeTest.expectedMap(m));

                // qemu (GnuTLS) with its x509 credentials object
                ProcessResult q = ServeTest.run("qemu-img", "compare", "--object", "tls-creds-x509,id=tls0,endpoint=client,dir=" + pki,
                        "--image-opts", "driver=qcow2,file.filename=" + image,
                        "driver=raw,file.driver=nbd,file.server.type=inet,file.server.host=127.0.0.1,file.server.port=" + port
                                + ",file.export=" + m.id().value() + ",file.tls-creds=tls0");
                assertThat(q.exitCode()).as(q.stdout() + q.stderrOneLine()).isZero();

                // our own client (JSSE), with the default export name and block status
                NbdClientOptions trusting = NbdClientOptions.builder().sslContext(TlsCertificates.clientContext(pki))
                        .metaContexts("base:allocation").build();
                try (NbdClient client = NbdClient.connect(NbdUri.parse("nbds://127.0.0.1:" + port + "/"), trusting)) {
                    assertThat(client.size()).isEqualTo(m.virtualSize());
                    byte[] middle = client.read(28 * MIB, (int) (8 * MIB));
                    byte[] expected = new byte[(int) (8 * MIB)];
                    try (var file = java.nio.channels.FileChannel.open(raw)) {
                        file.read(java.nio.ByteBuffer.wrap(expected), 28 * MIB);
                    }
                    assertThat(middle).isEqualTo(expected);
                }

                // refused cleanly: a plain client, a client not trusting the certificate, raw options before TLS
                NbdUri plain = new NbdUri(NbdUri.Transport.TCP, "127.0.0.1", port, null, "", false);
                assertThatThrownBy(() -> NbdClient.connect(plain, NbdClientOptions.defaults()))
                        .isInstanceOf(NbdOptionException.class).hasMessageContaining("NBD_REP_ERR_TLS_REQD");
                ProcessResult p = ServeTest.run("nbdinfo", "nbd://127.0.0.1:" + port + "/");
                assertThat(p.exitCode()).isNotZero();
                assertThatThrownBy(() -> NbdClient.connect(NbdUri.parse(server.uri()), NbdClientOptions.defaults()))
                        .isInstanceOf(NbdException.class).hasMessageContaining("TLS handshake");
                refusesEverythingButStartTlsInTheClear(new InetSocketAddress("127.0.0.1", port));

                // the server outlived all of it
                ProcessResult again = ServeTest.run("nbdinfo", "--size", libnbd);
                assertThat(again.stdout().strip()).as(again.stderrOneLine()).isEqualTo(Long.toString(m.virtualSize()));
            }
        } finally {
            System.setErr(err);
        }
        String logged = log.toString();
        err.print(logged);
        assertThat(logged).contains("TLS only, certificate " + pki.resolve("server-cert.pem"));
        String key = Files.readString(pki.resolve("server-key.pem"));
        assertThat(logged).doesNotContain("server-key.pem").doesNotContain("PRIVATE KEY")
                .doesNotContain(key.lines().skip(1).findFirst().orElseThrow());
    }

    private static void refusesEverythingButStartTlsInTheClear(InetSocketAddress address) throws Exception {
        try (RawClient c = RawClient.open(address)) {
            c.option(NBD_OPT_LIST, new byte[0]);
            assertThat(c.optionReply()[0]).isEqualTo(NBD_REP_ERR_TLS_REQD);
            c.option(NBD_OPT_STRUCTURED_REPLY, new byte[0]);
            assertThat(c.optionReply()[0]).isEqualTo(NBD_REP_ERR_TLS_REQD);
            c.option(NBD_OPT_GO, new byte[] {0, 0, 0, 0, 0, 0});
            assertThat(c.optionReply()[0]).isEqualTo(NBD_REP_ERR_TLS_REQD);
            c.option(NBD_OPT_STARTTLS, new byte[] {1});
            assertThat(c.optionReply()[0]).isEqualTo(NBD_REP_ERR_INVALID);
            c.option(NBD_OPT_ABORT, new byte[0]);
            assertThat(c.optionReply()[0]).isEqualTo(NBD_REP_ACK);
        }
        // NBD_OPT_EXPORT_NAME has no error reply: the server hangs up rather than answer in the clear
        try (RawClient c = RawClient.open(address)) {
            c.option(NBD_OPT_EXPORT_NAME, new byte[0]);
            assertThatThrownBy(() -> c.read(10)).isInstanceOf(EOFException.class);
        }
    }

    @Test
    void aKeyThatIsNotTheCertificatesIsRefusedBeforeServing() {
        Path pki = TlsCertificates.createClient(TlsCertificates.create(work.resolve("pki")));
        assertThatThrownBy(() -> ServerTls.fromPem(pki.resolve("server-cert.pem"), pki.resolve("client-key.pem")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not belong to the certificate");
        assertThatThrownBy(() -> ServerTls.fromPem(pki.resolve("server-cert.pem"), pki.resolve("server-cert.pem")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("holds no PEM private key");
    }
}
