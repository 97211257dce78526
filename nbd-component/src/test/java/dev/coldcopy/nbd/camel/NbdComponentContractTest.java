package dev.coldcopy.nbd.camel;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coldcopy.nbd.protocol.ExportDescription;
import dev.coldcopy.nbd.protocol.ExportInfo;
import dev.coldcopy.nbd.testing.NbdkitServer;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.nbd.testing.QemuNbdServer;
import dev.coldcopy.testing.Tools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.spi.ExceptionHandler;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same contract from the consumer and the chunks operation (an empty plan still ends with one NONE
 * chunk marked last), what info and list report, and how a failed pass is reported.
 */
class NbdComponentContractTest extends CamelTestSupport {

    static final long M = 1024 * 1024;

    @TempDir
    Path tmp;

    static String nbdEndpoint(Object nbdUri, String options) {
        return "nbd:uri?uri=RAW(" + nbdUri + ")" + (options.isEmpty() ? "" : "&" + options);
    }

    /** Runs the chunks operation through split/streaming and returns the split messages' headers. */
    private List<Map<String, Object>> chunksOperation(String uri, String metaContext) throws Exception {
        List<Map<String, Object>> seen = new CopyOnWriteArrayList<>();
        String route = "direct:chunks-" + System.nanoTime();
        context.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from(route)
                        .setHeader(NbdConstants.URI, constant(uri))
                        .to("nbd:uri?operation=chunks&metaContext=" + metaContext)
                        .split(body()).streaming().stopOnException()
                            .process(e -> seen.add(Map.copyOf(e.getIn().getHeaders())))
                        .end();
            }
        });
        template.sendBody(route, null);
        return seen;
    }

    /** The consumer's pass, as the headers of the exchanges it sent. */
    private List<Map<String, Object>> consumerPass(String endpoint) throws Exception {
        List<Map<String, Object>> seen = new CopyOnWriteArrayList<>();
        CountDownLatch last = new CountDownLatch(1);
        context.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from(endpoint).process(e -> {
                    seen.add(Map.copyOf(e.getIn().getHeaders()));
                    if (e.getIn().getHeader(NbdConstants.LAST_CHUNK, Boolean.class)) {
                        last.countDown();
                    }
                });
            }
        });
        assertThat(last.await(30, TimeUnit.SECONDS)).as("the pass ends with CamelNbdLastChunk").isTrue();
        return seen;
    }

    private static void assertOneNoneMarker(List<Map<String, Object>> chunks, long exportSize) {
        assertThat(chunks).hasSize(1);
        Map<String, Object> marker = chunks.get(0);
        assertThat(marker).containsEntry(NbdConstants.CHUNK_KIND, "NONE")
                .containsEntry(NbdConstants.LAST_CHUNK, true)
                .containsEntry(NbdConstants.CHUNK_COUNT, 1L)
                .containsEntry(NbdConstants.OFFSET, 0L)
                .containsEntry(NbdConstants.LENGTH, 0L)
                .containsEntry(NbdConstants.EXPORT_SIZE, exportSize);
    }

    @Test
    void emptyExportGivesOneNoneMarkerFromTheChunksOperationAndTheConsumerAlike() throws Exception {
        try (NbdkitServer server = NbdkitServer.builder("memory").param("size=0").start()) {
            assertOneNoneMarker(chunksOperation(server.uri().toString(), "base:allocation"), 0);
            assertOneNoneMarker(consumerPass(nbdEndpoint(server.uri(), "initialDelay=0")), 0);
        }
    }

    @Test
    void cleanDirtyBitmapGivesOneNoneMarkerFromTheChunksOperation() throws Exception {
        Path img = QemuImages.createQcow2(tmp.resolve("clean.qcow2"), 8 * M);
        QemuImages.io(img, "write -P 0x11 0 1M");
        QemuImages.addBitmap(img, "b0", false);
        try (QemuNbdServer server = QemuNbdServer.builder(img).bitmap("b0").shared(2).start()) {
            assertOneNoneMarker(chunksOperation(server.uri().toString(), "qemu:dirty-bitmap:b0"), 8 * M);
        }
    }

    @Test
    void infoListsEveryContextTheExportOffersAsNbdinfoDoes() throws Exception {
        Path img = QemuImages.createQcow2(tmp.resolve("five.qcow2"), 8 * M);
        for (String b : List.of("b1", "b2", "b3")) {
            QemuImages.addBitmap(img, b, false);
        }
        try (QemuNbdServer server = QemuNbdServer.builder(img).bitmap("b1").bitmap("b2").bitmap("b3")
                .arg("--allocation-depth").start()) {
            JsonNode nbdinfo = new ObjectMapper().readTree(Tools.run(Duration.ofMinutes(1),
                    List.of("nbdinfo", "--json", server.uri().toString())));
            List<String> expected = new ArrayList<>();
            nbdinfo.get("exports").get(0).get("contexts").forEach(c -> expected.add(c.asText()));
            assertThat(expected).hasSize(5);

            ExportInfo info = template.requestBodyAndHeader("nbd:uri?operation=info", null, NbdConstants.URI,
                    server.uri().toString(), ExportInfo.class);
            assertThat(info.metaContextIds().keySet()).containsExactlyInAnyOrderElementsOf(expected);
            assertThat(info.size()).isEqualTo(8 * M);
        }
    }

    @Test
    void listReportsTheServersExportsWithDescriptionsAsNbdinfoDoes() throws Exception {
        try (NbdkitServer server = NbdkitServer.builder("memory").filter("exportname").param("size=1M")
                .param("exportname=alpha").param("exportname=beta").param("exportdesc=fixed:test disk")
                .param("exportname-list=explicit").start()) {
            JsonNode nbdinfo = new ObjectMapper().readTree(Tools.run(Duration.ofMinutes(1),
                    List.of("nbdinfo", "--list", "--json", server.uri().toString())));
            List<ExportDescription> expected = new ArrayList<>();
            nbdinfo.get("exports").forEach(e -> expected.add(new ExportDescription(e.get("export-name").asText(),
                    e.path("description").asText(""))));

            @SuppressWarnings("unchecked")
            List<ExportDescription> got = template.requestBodyAndHeader("nbd:uri?operation=list", null, NbdConstants.URI,
                    server.uri().toString(), List.class);
            assertThat(got).containsExactlyElementsOf(expected)
                    .contains(new ExportDescription("alpha", "test disk"), new ExportDescription("beta", "test disk"));
        }
    }

    /** Records what the consumer hands to its exception handler (by default: logged as WARN). */
    static final class RecordingHandler implements ExceptionHandler {
        final List<String> messages = Collections.synchronizedList(new ArrayList<>());
        final CountDownLatch called = new CountDownLatch(1);

        @Override
        public void handleException(Throwable exception) {
            handleException(null, null, exception);
        }

        @Override
        public void handleException(String message, Throwable exception) {
            handleException(message, null, exception);
        }

        @Override
        public void handleException(String message, Exchange exchange, Throwable exception) {
            messages.add(message);
            called.countDown();
        }
    }

    @Test
    void aFailedLastPassDoesNotPromiseAnotherPoll() throws Exception {
        RecordingHandler handler = new RecordingHandler();
        context.getRegistry().bind("recorder", handler);
        Path missing = tmp.resolve("no-such.sock");
        context.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("nbd:unix?socket=" + missing + "&initialDelay=0&exceptionHandler=#recorder").to("log:never");
            }
        });
        assertThat(handler.called.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(handler.messages).hasSize(1);
        assertThat(handler.messages.get(0)).contains("no-such.sock").contains("not tried again")
                .doesNotContainIgnoringCase("try again at next poll");
    }

    @Test
    void withBridgeErrorHandlerAConnectionFailureReachesTheRoutesErrorHandler() throws Exception {
        List<Throwable> caught = new CopyOnWriteArrayList<>();
        CountDownLatch handled = new CountDownLatch(1);
        Path missing = tmp.resolve("no-such.sock");
        context.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                onException(Exception.class).handled(true).process(e -> {
                    caught.add(e.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class));
                    handled.countDown();
                });
                from("nbd:unix?socket=" + missing + "&initialDelay=0&bridgeErrorHandler=true").to("log:never");
            }
        });
        assertThat(handled.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(caught.get(0)).hasMessageContaining("no-such.sock");
    }

    @Test
    void messageBodiesOfTheChunksOperationAreMessages() throws Exception {
        // guards the list body type used above: the chunks operation yields Camel messages by default
        try (NbdkitServer server = NbdkitServer.builder("memory").param("size=0").start()) {
            Object body = template.requestBodyAndHeader("nbd:uri?operation=chunks", null, NbdConstants.URI,
                    server.uri().toString());
            assertThat(body).isInstanceOf(java.util.Iterator.class);
            Object first = ((java.util.Iterator<?>) body).next();
            assertThat(first).isInstanceOf(Message.class);
        }
    }
}
