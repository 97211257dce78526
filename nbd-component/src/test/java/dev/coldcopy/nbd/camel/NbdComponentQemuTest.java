package dev.coldcopy.nbd.camel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.nbd.protocol.ExportInfo;
import dev.coldcopy.nbd.protocol.Extent;
import dev.coldcopy.nbd.testing.NbdkitServer;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.nbd.testing.QemuNbdServer;
import dev.coldcopy.nbd.testing.TlsCertificates;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.camel.Message;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The nbd: consumer and producer against real qemu-nbd and nbdkit exports: dirty ranges from a qcow2
 * bitmap, data equal to the image, chunk grid, zero ranges not read.
 */
class NbdComponentQemuTest extends CamelTestSupport {

    static final long K = 1024;
    static final long M = K * K;

    @TempDir
    Path tmp;

    /** What a route saw for one chunk. */
    record Seen(long offset, long length, String kind, byte[] data, long index, boolean last, long exportSize) {
        long end() {
            return offset + length;
        }
    }

    /** Starts a route from {@code fromUri}, collects every chunk up to the last one. */
    List<Seen> consume(String fromUri) throws Exception {
        List<Seen> seen = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(1);
        context.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from(fromUri).routeId("reader").process(e -> {
                    Message m = e.getMessage();
                    seen.add(new Seen(m.getHeader(NbdConstants.OFFSET, Long.class), m.getHeader(NbdConstants.LENGTH, Long.class),
                            m.getHeader(NbdConstants.CHUNK_KIND, String.class), m.getBody(byte[].class),
                            m.getHeader(NbdConstants.CHUNK_INDEX, Long.class), m.getHeader(NbdConstants.LAST_CHUNK, Boolean.class),
                            m.getHeader(NbdConstants.EXPORT_SIZE, Long.class)));
                    if (m.getHeader(NbdConstants.LAST_CHUNK, Boolean.class)) {
                        done.countDown();
                    }
                });
            }
        });
        assertThat(done.await(120, TimeUnit.SECONDS)).as("last chunk arrived").isTrue();
        context.getRouteController().stopRoute("reader");
        return new ArrayList<>(seen);
    }

    static String nbdEndpoint(Object nbdUri, String options) {
        return "nbd:uri?uri=RAW(" + nbdUri + ")" + (options.isEmpty() ? "" : "&" + options);
    }

    /** Image with data before the bitmap and writes after it; returns the ranges written after (64K-rounded). */
    Path imageWithBitmap(List<long[]> dirty) {
        Path img = QemuImages.createQcow2(tmp.resolve("src.qcow2"), 32 * M);
        QemuImages.io(img, "write -P 0x11 0 4M", "write -P 0x12 8M 2M");
        QemuImages.addBitmap(img, "b1", false);
        QemuImages.io(img, 
                "write -P 0x21 " + (M + 64 * K) + " 64k",          // inside old data
                "write -P 0x22 " + (6 * M - 128 * K) + " 256k",   // across the 6 MiB chunk boundary
                "write -z " + (8 * M + 512 * K) + " 512k",        // zeroes over old data
                "write -z " + (10 * M) + " 1M",                    // zeroes over nothing
                "write -P 0x23 " + (20 * M + 4 * K) + " 8k");     // inside one 64K cluster
        // the bitmap's granularity is 64 KiB: a write dirties every 64K block it touches
        dirty.add(new long[] {M + 64 * K, M + 128 * K});
        dirty.add(new long[] {6 * M - 128 * K, 6 * M + 128 * K});
        dirty.add(new long[] {8 * M + 512 * K, 9 * M});
        dirty.add(new long[] {10 * M, 11 * M});
        dirty.add(new long[] {20 * M, 20 * M + 64 * K});
        return img;
    }

    static List<long[]> union(List<Seen> chunks) {
        List<long[]> out = new ArrayList<>();
        for (Seen s : chunks) {
            long[] last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && last[1] == s.offset()) {
                last[1] = s.end();
            } else {
                out.add(new long[] {s.offset(), s.end()});
            }
        }
        return out;
    }

    static void assertWellFormed(List<Seen> chunks, long chunkSize, long exportSize) {
        assertThat(chunks).isNotEmpty();
        for (int i = 0; i < chunks.size(); i++) {
            Seen s = chunks.get(i);
            assertThat(s.index()).isEqualTo(i);
            assertThat(s.last()).as("last flag on chunk %d of %d", i, chunks.size()).isEqualTo(i == chunks.size() - 1);
            assertThat(s.exportSize()).isEqualTo(exportSize);
            assertThat(s.offset() / chunkSize).as("chunk %d+%d crosses a multiple of %d", s.offset(), s.length(), chunkSize)
                    .isEqualTo((s.end() - 1) / chunkSize);
            if (i > 0) {
                assertThat(s.offset()).isGreaterThanOrEqualTo(chunks.get(i - 1).end());
            }
            if ("ZERO".equals(s.kind())) {
                assertThat(s.data()).isNull();
            } else {
                assertThat(s.kind()).isEqualTo("DATA");
                assertThat(s.data()).hasSize((int) s.length());
            }
        }
    }

    static void assertBytesMatch(List<Seen> chunks, Path raw) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(raw.toFile(), "r")) {
            for (Seen s : chunks) {
                byte[] expected = new byte[(int) s.length()];
                f.seek(s.offset());
                f.readFully(expected);
                if ("DATA".equals(s.kind())) {
                    assertThat(s.data()).as("bytes at %d", s.offset()).isEqualTo(expected);
                } else {
                    assertThat(ZeroDetector.isZero(expected)).as("ZERO chunk at %d reads as zero", s.offset()).isTrue();
                }
            }
        }
    }

    @Test
    void dirtyBitmapChunksCoverExactlyTheRangesWrittenAfterTheBitmap() throws Exception {
        List<long[]> dirty = new ArrayList<>();
        Path img = imageWithBitmap(dirty);
        Path raw = QemuImages.convertToRaw(img, tmp.resolve("src.raw"));
        try (QemuNbdServer server = QemuNbdServer.builder(img).bitmap("b1").start()) {
            List<Seen> chunks = consume(nbdEndpoint(server.uri(), "metaContext=qemu:dirty-bitmap:b1&chunkSize=1048576"));
            assertWellFormed(chunks, M, 32 * M);
            assertThat(union(chunks)).containsExactlyElementsOf(dirty);
            assertBytesMatch(chunks, raw);
            // zeroes written after the bitmap are dirty, emitted as ZERO, never read
            assertThat(chunks).filteredOn(s -> s.offset() >= 8 * M + 512 * K && s.end() <= 11 * M)
                    .isNotEmpty().allMatch(s -> "ZERO".equals(s.kind()));
            assertThat(chunks).filteredOn(s -> s.offset() == 6 * M - 128 * K || s.offset() == 6 * M)
                    .extracting(Seen::length).containsExactly(128 * K, 128 * K);
        }
    }

    @Test
    void fullReadCoversTheWholeExportWithDataEqualToTheImage() throws Exception {
        Path img = imageWithBitmap(new ArrayList<>());
        Path raw = QemuImages.convertToRaw(img, tmp.resolve("src.raw"));
        try (QemuNbdServer server = QemuNbdServer.builder(img).start()) {
            List<Seen> chunks = consume(nbdEndpoint(server.uri(), ""));
            assertWellFormed(chunks, 4 * M, 32 * M);
            assertThat(union(chunks)).containsExactly(new long[] {0, 32 * M});
            assertBytesMatch(chunks, raw);
            long data = chunks.stream().filter(s -> "DATA".equals(s.kind())).mapToLong(Seen::length).sum();
            // 4M + 2M written before, minus 512K zeroed, plus 256K around 6M and the 64K cluster at 20M
            assertThat(data).isEqualTo(4 * M + 2 * M - 512 * K + 256 * K + 64 * K);
        }
    }

    @Test
    void zeroRangesAreEmittedWithoutReadingThem() throws Exception {
        Path img = imageWithBitmap(new ArrayList<>());
        Path raw = QemuImages.convertToRaw(img, tmp.resolve("src.raw"));
        Path log = tmp.resolve("nbdkit.log");
        List<Seen> chunks;
        try (NbdkitServer server = NbdkitServer.builder("file").readOnly(true).filter("log")
                .param("file=" + raw).param("logfile=" + log).start()) {
            chunks = consume(nbdEndpoint(server.uri(), "zeroDetect=false"));
        }
        assertBytesMatch(chunks, raw);
        List<long[]> reads = new ArrayList<>();
        for (String line : Files.readAllLines(log)) {
            int at = line.indexOf(" Read ");
            if (at >= 0) {
                long offset = Long.decode(line.replaceAll(".* offset=(0x[0-9a-f]+).*", "$1"));
                long count = Long.decode(line.replaceAll(".* count=(0x[0-9a-f]+).*", "$1"));
                reads.add(new long[] {offset, offset + count});
            }
        }
        List<Seen> zero = chunks.stream().filter(s -> "ZERO".equals(s.kind())).toList();
        assertThat(zero).isNotEmpty();
        for (long[] r : reads) {
            for (Seen z : zero) {
                assertThat(r[1] <= z.offset() || r[0] >= z.end())
                        .as("read [%d, %d) overlaps ZERO chunk at %d", r[0], r[1], z.offset()).isTrue();
            }
        }
        long readBytes = reads.stream().mapToLong(r -> r[1] - r[0]).sum();
        long dataBytes = chunks.stream().filter(s -> "DATA".equals(s.kind())).mapToLong(Seen::length).sum();
        assertThat(readBytes).as("every DATA byte read once, nothing else").isEqualTo(dataBytes);
    }

    @Test
    void producerExtentsAndInfoFollowTheHeaderUri() throws Exception {
        List<long[]> dirty = new ArrayList<>();
        Path img = imageWithBitmap(dirty);
        try (QemuNbdServer server = QemuNbdServer.builder(img).bitmap("b1").start()) {
            @SuppressWarnings("unchecked")
            List<Extent> extents = template.requestBodyAndHeader("nbd:uri?operation=extents&metaContext=qemu:dirty-bitmap:b1",
                    null, NbdConstants.URI, server.uri().toString(), List.class);
            List<long[]> dirtyExtents = extents.stream().filter(e -> e.flags() == 1)
                    .map(e -> new long[] {e.offset(), e.end()}).toList();
            assertThat(dirtyExtents).containsExactlyElementsOf(dirty);
            assertThat(extents.get(extents.size() - 1).end()).isEqualTo(32 * M);

            ExportInfo info = template.requestBodyAndHeader("nbd:uri?operation=info", null, NbdConstants.URI,
                    server.uri().toString(), ExportInfo.class);
            assertThat(info.size()).isEqualTo(32 * M);
            assertThat(info.readOnly()).isTrue();
        }
    }

    @Test
    void tcpTransportWithTlsAndAnSslContextBean() throws Exception {
        List<long[]> dirty = new ArrayList<>();
        Path img = imageWithBitmap(dirty);
        Path raw = QemuImages.convertToRaw(img, tmp.resolve("src.raw"));
        Path creds = TlsCertificates.create(tmp.resolve("pki"));
        context.getRegistry().bind("nbdTls", TlsCertificates.clientContext(creds));
        try (QemuNbdServer server = QemuNbdServer.builder(img).bitmap("b1").tls(creds, false).start()) {
            List<Seen> chunks = consume("nbd:tcp?host=127.0.0.1&port=" + server.uri().port() + "&exportName=disk"
                    + "&tls=true&sslContext=#nbdTls&metaContext=qemu:dirty-bitmap:b1&chunkSize=1048576");
            assertWellFormed(chunks, M, 32 * M);
            assertThat(union(chunks)).containsExactlyElementsOf(dirty);
            assertBytesMatch(chunks, raw);
        }
    }

    @Test
    void cleanBitmapGivesOneNoneMarkerSoTheRouteCanStillCommit() throws Exception {
        Path img = QemuImages.createQcow2(tmp.resolve("clean.qcow2"), 8 * M);
        QemuImages.io(img, "write -P 0x11 0 1M");
        QemuImages.addBitmap(img, "b0", false);
        try (QemuNbdServer server = QemuNbdServer.builder(img).bitmap("b0").start()) {
            List<Seen> chunks = consume(nbdEndpoint(server.uri(), "metaContext=qemu:dirty-bitmap:b0"));
            assertThat(chunks).hasSize(1);
            Seen marker = chunks.get(0);
            assertThat(marker.kind()).isEqualTo("NONE");
            assertThat(marker.length()).isZero();
            assertThat(marker.last()).isTrue();
            assertThat(marker.data()).isNull();
            assertThat(marker.exportSize()).isEqualTo(8 * M);
        }
    }
}
