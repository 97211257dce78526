package dev.coldcopy.nbd.camel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.nbd.testing.NbdkitServer;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.nbd.testing.QemuNbdServer;
import dev.coldcopy.nbd.testing.TlsCertificates;
import dev.coldcopy.testing.Tools;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.camel.builder.NotifyBuilder;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.ResourceHelper;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The YAML examples of nbd-component/README.md, taken from the README as written and run against real
 * servers: only the {@code {{placeholders}}} are filled in, as a user's application.properties would.
 */
class ReadmeExamplesTest extends CamelTestSupport {

    static final long M = 1024 * 1024;

    @TempDir
    Path tmp;

    /** The ```yaml block of the README whose first line is {@code # README example: NAME}. */
    static String readmeYaml(String name) throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        Matcher m = Pattern.compile("```yaml\\n(# README example: " + Pattern.quote(name) + "\\n.*?)```", Pattern.DOTALL).matcher(readme);
        assertThat(m.find()).as("README example " + name).isTrue();
        return m.group(1);
    }

    private void load(String yaml, Properties properties) throws Exception {
        context.getPropertiesComponent().setOverrideProperties(properties);
        PluginHelper.getRoutesLoader(context).loadRoutes(ResourceHelper.fromString("readme.yaml", yaml));
    }

    /** A route behind direct:store-chunk that collects the chunks and signals the last one. */
    private CountDownLatch storeChunks(List<String> kinds) throws Exception {
        CountDownLatch last = new CountDownLatch(1);
        context.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:store-chunk").process(e -> {
                    kinds.add(e.getIn().getHeader(NbdConstants.CHUNK_KIND, String.class));
                    if (e.getIn().getHeader(NbdConstants.LAST_CHUNK, Boolean.class)) {
                        last.countDown();
                    }
                });
            }
        });
        return last;
    }

    @Test
    void writeIntoImageExampleCopiesTheExportByteForByte() throws Exception {
        Path source = tmp.resolve("source.raw");
        Random random = new Random(6);
        try (RandomAccessFile f = new RandomAccessFile(source.toFile(), "rw")) {
            f.setLength(16 * M);
            byte[] block = new byte[(int) (300 * 1024)];
            for (long offset : new long[] {0, 5 * M + 4096, 11 * M}) {
                random.nextBytes(block);
                f.seek(offset);
                f.write(block);
            }
            f.seek(8 * M);
            f.write(new byte[(int) M]); // allocated zeroes: a ZERO chunk with no body
        }
        Path target = tmp.resolve("target.raw");
        try (RandomAccessFile f = new RandomAccessFile(target.toFile(), "rw")) {
            byte[] junk = new byte[(int) (16 * M)];
            new Random(7).nextBytes(junk); // old contents the ZERO chunks must overwrite
            f.write(junk);
        }
        try (NbdkitServer src = NbdkitServer.builder("file").param("file=" + source).readOnly(true).start();
             NbdkitServer dst = NbdkitServer.builder("file").param("file=" + target).start()) {
            Properties p = new Properties();
            p.setProperty("source.socket", src.uri().socket().toString());
            p.setProperty("target.socket", dst.uri().socket().toString());
            // the example's route ends with flush and disconnect on the last chunk: wait for that exchange
            NotifyBuilder done = new NotifyBuilder(context).fromRoute("copy-into-image")
                    .whenAnyDoneMatches(e -> Boolean.TRUE.equals(e.getIn().getHeader(NbdConstants.LAST_CHUNK))).create();
            load(readmeYaml("write-into-image"), p);
            assertThat(done.matches(60, TimeUnit.SECONDS)).isTrue();
            Path copy = tmp.resolve("copy.raw");
            Tools.run(Duration.ofMinutes(1), List.of("nbdcopy", dst.uri().toString(), copy.toString()));
            assertThat(QemuImages.sha256(copy)).isEqualTo(QemuImages.sha256(source));
        }
        assertThat(QemuImages.sha256(target)).isEqualTo(QemuImages.sha256(source));
    }

    @Test
    void tlsX509ExampleReadsFromAServerThatVerifiesClients() throws Exception {
        Path pki = TlsCertificates.createClient(TlsCertificates.create(tmp.resolve("pki")));
        Path img = QemuImages.createQcow2(tmp.resolve("disk.qcow2"), 8 * M);
        QemuImages.io(img, "write -P 0x5a 1M 1M");
        try (QemuNbdServer server = QemuNbdServer.builder(img).tls(pki, true).start()) {
            Properties p = new Properties();
            p.setProperty("nbd.host", "127.0.0.1");
            p.setProperty("nbd.port", Integer.toString(server.uri().port()));
            p.setProperty("nbd.pki", pki.toString());
            List<String> kinds = new CopyOnWriteArrayList<>();
            CountDownLatch last = storeChunks(kinds);
            load(readmeYaml("tls-x509"), p);
            assertThat(last.await(60, TimeUnit.SECONDS)).isTrue();
            assertThat(kinds).contains("DATA");
        }
    }

    @Test
    void tlsPskExampleReadsFromAPskServer() throws Exception {
        Path keys = tmp.resolve("keys.psk");
        Tools.run(Duration.ofSeconds(30), List.of("psktool", "-u", "coldcopy", "-p", keys.toString()));
        try (NbdkitServer server = NbdkitServer.builder("data").param("data=1 2 3 @1048576 4 5 6").param("size=4M")
                .exportName("disk").tlsPsk(keys).start()) {
            Properties p = new Properties();
            p.setProperty("nbd.host", "127.0.0.1");
            p.setProperty("nbd.port", Integer.toString(server.uri().port()));
            p.setProperty("nbd.pskFile", keys.toString());
            List<String> kinds = new CopyOnWriteArrayList<>();
            CountDownLatch last = storeChunks(kinds);
            load(readmeYaml("tls-psk"), p);
            assertThat(last.await(60, TimeUnit.SECONDS)).isTrue();
            assertThat(kinds).contains("DATA");
        }
    }
}
