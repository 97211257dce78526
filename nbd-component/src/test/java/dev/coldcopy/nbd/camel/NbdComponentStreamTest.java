package dev.coldcopy.nbd.camel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.nbd.testing.NbdkitServer;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.nbd.testing.QemuNbdServer;
import dev.coldcopy.testing.Tools;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Streaming: bounded read-ahead on a huge sparse export, round trips through the write producer, failures. */
class NbdComponentStreamTest extends CamelTestSupport {

    static final long K = 1024;
    static final long M = K * K;

    @TempDir
    Path tmp;

    static String nbdEndpoint(Object nbdUri, String options) {
        return "nbd:uri?uri=RAW(" + nbdUri + ")" + (options.isEmpty() ? "" : "&" + options);
    }

    /** 24 MiB qcow2 of random blocks, a zero-filled allocated block and holes. */
    Path randomSource() throws Exception {
        Path raw = tmp.resolve("src.raw");
        Random random = new Random(7);
        try (RandomAccessFile f = new RandomAccessFile(raw.toFile(), "rw")) {
            f.setLength(24 * M);
            for (long offset : new long[] {0, 3 * M + 12 * K, 7 * M, 15 * M - 4 * K, 23 * M}) {
                byte[] block = new byte[(int) (300 * K)];
                random.nextBytes(block);
                f.seek(offset);
                f.write(block, 0, (int) Math.min(block.length, 24 * M - offset));
            }
        }
        Path qcow2 = QemuImages.convert(raw, tmp.resolve("src.qcow2"), "qcow2");
        QemuImages.io(qcow2, "write -P 0 " + (12 * M) + " 1M"); // allocated, but all zero
        return qcow2;
    }

    static void assertIdentical(Path a, Path b) {
        String out = Tools.run(Duration.ofMinutes(2), List.of("qemu-img", "compare", "-f", "qcow2", "-F", "qcow2",
                a.toString(), b.toString()));
        assertThat(out).contains("Images are identical");
    }

    @Test
    void consumerToWriteProducerRoundTripIsIdentical() throws Exception {
        Path src = randomSource();
        Path dst = QemuImages.createQcow2(tmp.resolve("dst.qcow2"), 24 * M);
        CountDownLatch done = new CountDownLatch(1);
        try (QemuNbdServer source = QemuNbdServer.builder(src).start();
             QemuNbdServer target = QemuNbdServer.builder(dst).readOnly(false).start()) {
            String writer = nbdEndpoint(target.uri(), "operation=write");
            context.addRoutes(new RouteBuilder() {
                @Override
                public void configure() {
                    from(nbdEndpoint(source.uri(), "chunkSize=1048576&readAhead=2")).routeId("copy")
                            .to(writer)
                            .filter(header(NbdConstants.LAST_CHUNK))
                                .setHeader(NbdConstants.OPERATION, constant("flush"))
                                .to(writer)
                                .process(e -> done.countDown());
                }
            });
            assertThat(done.await(60, TimeUnit.SECONDS)).isTrue();
            context.getRouteController().stopRoute("copy");
        }
        assertIdentical(src, dst);
    }

    @Test
    void chunksOperationWithStreamingSplitRoundTripIsIdentical() throws Exception {
        Path src = randomSource();
        Path dst = QemuImages.createQcow2(tmp.resolve("dst.qcow2"), 24 * M);
        AtomicLong zeroChunks = new AtomicLong();
        try (QemuNbdServer source = QemuNbdServer.builder(src).start();
             QemuNbdServer target = QemuNbdServer.builder(dst).readOnly(false).start()) {
            String writer = nbdEndpoint(target.uri(), "operation=write");
            context.addRoutes(new RouteBuilder() {
                @Override
                public void configure() {
                    from("direct:copy")
                            .to("nbd:uri?operation=chunks&chunkSize=2097152")
                            .split(body()).streaming()
                                .process(e -> {
                                    if ("ZERO".equals(e.getMessage().getHeader(NbdConstants.CHUNK_KIND))) {
                                        zeroChunks.incrementAndGet();
                                    }
                                })
                                .to(writer)
                            .end()
                            .removeHeader(NbdConstants.URI)
                            .setHeader(NbdConstants.OPERATION, constant("flush"))
                            .to(writer);
                }
            });
            // the export exists only now: the exchange names it
            template.sendBodyAndHeader("direct:copy", null, NbdConstants.URI, source.uri().toString());
            // the writable qemu-nbd serves one client: a new connection works only once ours is released
            template.sendBody(nbdEndpoint(target.uri(), "operation=disconnect"), (Object) null);
            Object info = template.requestBody(nbdEndpoint(target.uri(), "operation=info&connectTimeout=3000"), (Object) null);
            assertThat(info).isInstanceOf(dev.coldcopy.nbd.protocol.ExportInfo.class);
        }
        assertIdentical(src, dst);
        assertThat(zeroChunks.get()).as("holes and the zero-filled block came as ZERO chunks").isGreaterThan(0);
    }

    @Test
    void readAheadStaysBoundedOnA64GiBSparseExport() throws Exception {
        AtomicReference<NbdChunkIterator> iterator = new AtomicReference<>();
        AtomicLong dataBytes = new AtomicLong();
        AtomicLong chunks = new AtomicLong();
        AtomicLong maxHeld = new AtomicLong();
        try (NbdkitServer server = NbdkitServer.builder("sparse-random").readOnly(true)
                .param("size=64G").param("percent=0.05").param("runlength=65536").param("seed=4242").start()) {
            // the reference: what nbdinfo maps as data ("offset length type description" lines)
            long expectedData = 0;
            for (String line : Tools.run(Duration.ofMinutes(1), List.of("nbdinfo", "--map", server.uri().toString())).split("\n")) {
                String[] f = line.trim().split("\\s+");
                if (f.length >= 3 && f[2].equals("0")) {
                    expectedData += Long.parseLong(f[1]);
                }
            }
            assertThat(expectedData).isGreaterThan(16 * M);
            context.addRoutes(new RouteBuilder() {
                @Override
                public void configure() {
                    from("direct:scan")
                            .to("nbd:uri?operation=chunks&outputType=chunk&readAhead=3&zeroDetect=false")
                            .process(e -> iterator.set(e.getMessage().getBody(NbdChunkIterator.class)))
                            .split(body()).streaming()
                                .process(e -> {
                                    NbdChunk c = e.getMessage().getBody(NbdChunk.class);
                                    chunks.incrementAndGet();
                                    if (c.kind() == NbdChunkKind.DATA) {
                                        dataBytes.addAndGet(c.length());
                                        assertThat(c.data()).hasSize(c.length());
                                    }
                                    // what the iterator holds beyond this chunk, sampled while we work on it
                                    maxHeld.accumulateAndGet(iterator.get().maxPending(), Math::max);
                                });
                }
            });
            template.sendBodyAndHeader("direct:scan", null, NbdConstants.URI, server.uri().toString());
            assertThat(dataBytes.get()).as("every data byte nbdinfo maps, read once").isEqualTo(expectedData);
        }
        assertThat(chunks.get()).as("64 GiB in 4 MiB cells").isGreaterThan(16384);
        assertThat(iterator.get().maxPending()).as("chunks buffered ahead").isEqualTo(3);
        assertThat(maxHeld.get()).isLessThanOrEqualTo(3);
        assertThat(iterator.get().hasNext()).as("exhausted and closed").isFalse();
    }

    @Test
    void serverReadErrorFailsTheExchangeWithTheOffset() throws Exception {
        try (NbdkitServer server = NbdkitServer.builder("pattern").readOnly(true).param("size=8M")
                .filter("error").param("error-pread=EIO").param("error-pread-rate=100%").start()) {
            context.addRoutes(new RouteBuilder() {
                @Override
                public void configure() {
                    from("direct:read").to("nbd:uri?operation=chunks").split(body()).streaming().to("mock:sink");
                }
            });
            assertThatThrownBy(() -> template.sendBodyAndHeader("direct:read", null, NbdConstants.URI, server.uri().toString()))
                    .hasStackTraceContaining("EIO")
                    // every piece of the first chunk fails; whichever reply comes first names its offset
                    .hasStackTraceContaining("NBD_CMD_READ at offset ");
        }
    }

    @Test
    void missingExportFailsWithTheServersReason() throws Exception {
        Path img = QemuImages.createQcow2(tmp.resolve("x.qcow2"), M);
        try (QemuNbdServer server = QemuNbdServer.builder(img).start()) {
            assertThatThrownBy(() -> template.requestBodyAndHeader("nbd:uri?operation=info", null, NbdConstants.URI,
                    server.uri("nope").toString()))
                    .hasStackTraceContaining("nope");
            assertThatThrownBy(() -> template.requestBodyAndHeader("nbd:uri?operation=extents&metaContext=qemu:dirty-bitmap:zz",
                    null, NbdConstants.URI, server.uri().toString()))
                    .hasStackTraceContaining("does not offer meta context 'qemu:dirty-bitmap:zz'");
        }
    }

    @Test
    void consumerConnectFailureReachesTheRouteErrorHandler() throws Exception {
        Path img = QemuImages.createQcow2(tmp.resolve("y.qcow2"), M);
        try (QemuNbdServer server = QemuNbdServer.builder(img).start()) {
            org.apache.camel.component.mock.MockEndpoint failed = getMockEndpoint("mock:failed");
            failed.expectedMessageCount(1);
            context.addRoutes(new RouteBuilder() {
                @Override
                public void configure() {
                    onException(java.io.IOException.class).handled(true).to("mock:failed");
                    from(nbdEndpoint(server.uri("nope"), "bridgeErrorHandler=true&initialDelay=0")).to("mock:chunks");
                }
            });
            failed.assertIsSatisfied(20_000);
            assertThat(failed.getExchanges().get(0).getProperty(org.apache.camel.Exchange.EXCEPTION_CAUGHT, Exception.class))
                    .hasMessageContaining("nope");
            assertThat(getMockEndpoint("mock:chunks").getReceivedCounter()).isZero();
        }
    }

    @Test
    void aFailingSplitClosesTheChunkIteratorAndItsConnection() throws Exception {
        AtomicReference<NbdChunkIterator> iterator = new AtomicReference<>();
        try (NbdkitServer server = NbdkitServer.builder("pattern").readOnly(true).param("size=64M").start()) {
            context.addRoutes(new RouteBuilder() {
                @Override
                public void configure() {
                    from("direct:fail")
                            .to("nbd:uri?operation=chunks&outputType=chunk&chunkSize=1048576")
                            .process(e -> iterator.set(e.getMessage().getBody(NbdChunkIterator.class)))
                            .split(body()).streaming().stopOnException()
                                .process(e -> {
                                    if (e.getMessage().getBody(NbdChunk.class).index() == 2) {
                                        throw new IllegalStateException("upload failed");
                                    }
                                });
                }
            });
            assertThatThrownBy(() -> template.sendBodyAndHeader("direct:fail", null, NbdConstants.URI, server.uri().toString()))
                    .hasStackTraceContaining("upload failed");
            assertThat(iterator.get().chunkCount()).as("stopped early").isEqualTo(3);
            assertThat(iterator.get().hasNext()).as("closed by the splitter, not left open").isFalse();
        }
    }
}
