package dev.coldcopy.routes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.nbd.testing.QemuNbdServer;
import dev.coldcopy.testing.Tools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.camel.CamelContext;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.ResourceHelper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The nbd: component found by its scheme and wired from a YAML route, as users write them. */
class NbdYamlRouteTest {

    @TempDir
    Path tmp;

    @Test
    void yamlRouteCopiesOnlyTheDirtyChunksOfAnExportToAnother() throws Exception {
        Path src = QemuImages.createQcow2(tmp.resolve("src.qcow2"), 16L << 20);
        QemuImages.io(src, "write -P 0x11 0 2M");
        QemuImages.addBitmap(src, "cc-1", false);
        QemuImages.io(src, "write -P 0x22 1M 128k", "write -P 0x33 9M 1M", "write -z 12M 1M");
        Path dst = QemuImages.createQcow2(tmp.resolve("dst.qcow2"), 16L << 20);
        // expected: only what changed after the bitmap reached the copy
        Path expected = QemuImages.createQcow2(tmp.resolve("expected.qcow2"), 16L << 20);
        QemuImages.io(expected, "write -P 0x22 1M 128k", "write -P 0x33 9M 1M");

        try (QemuNbdServer from = QemuNbdServer.builder(src).bitmap("cc-1").start();
             QemuNbdServer to = QemuNbdServer.builder(dst).readOnly(false).start()) {
            String yaml = """
                    - route:
                        id: nbd-copy
                        from:
                          uri: "nbd:uri?uri=RAW(%s)&metaContext=qemu:dirty-bitmap:cc-1&chunkSize=1048576"
                          steps:
                            - to: "nbd:uri?uri=RAW(%s)&operation=write"
                            - filter:
                                simple: "${header.CamelNbdLastChunk}"
                                steps:
                                  - setHeader:
                                      name: CamelNbdOperation
                                      constant: flush
                                  - to: "nbd:uri?uri=RAW(%s)"
                                  - to: "nbd:uri?uri=RAW(%s)&operation=disconnect"
                                  - to: "mock:done"
                    """.formatted(from.uri(), to.uri(), to.uri(), to.uri());
            CamelContext context = new DefaultCamelContext();
            try {
                PluginHelper.getRoutesLoader(context).loadRoutes(ResourceHelper.fromString("nbd-copy.yaml", yaml));
                MockEndpoint done = context.getEndpoint("mock:done", MockEndpoint.class);
                done.expectedMessageCount(1);
                context.start();
                done.setResultWaitTime(TimeUnit.SECONDS.toMillis(60));
                done.assertIsSatisfied();
                assertThat(done.getExchanges().get(0).getMessage().getHeader("CamelNbdChunkCount", Long.class))
                        .as("chunks: 1M+128K, 9M-10M, 12M-13M at 1 MiB").isEqualTo(3L);
            } finally {
                context.stop();
            }
        }
        String out = Tools.run(Duration.ofMinutes(1), List.of("qemu-img", "compare", "-f", "qcow2", "-F", "qcow2",
                expected.toString(), dst.toString()));
        assertThat(out).contains("Images are identical");
    }

    @Test
    void yamlSplitOverTheChunksOperationWithTheExportInAHeader() throws Exception {
        Path src = QemuImages.createQcow2(tmp.resolve("src.qcow2"), 16L << 20);
        QemuImages.io(src, "write -P 0x44 3M 1M", "write -P 0x55 7M 64k", "write -z 10M 2M");
        Path dst = QemuImages.createQcow2(tmp.resolve("dst.qcow2"), 16L << 20);
        try (QemuNbdServer from = QemuNbdServer.builder(src).start();
             QemuNbdServer to = QemuNbdServer.builder(dst).readOnly(false).start()) {
            String yaml = """
                    - route:
                        id: read-disk
                        from:
                          uri: "direct:read-disk"
                          steps:
                            - to: "nbd:uri?operation=chunks&chunkSize=1048576"
                            - split:
                                simple: "${body}"
                                streaming: true
                                stopOnException: true
                                steps:
                                  - choice:
                                      when:
                                        - simple: "${header.CamelNbdChunkKind} == 'DATA'"
                                          steps:
                                            - to: "nbd:uri?uri=RAW(%s)&operation=write"
                                            - to: "mock:data"
                            - removeHeader:
                                name: CamelNbdUri
                            - setHeader:
                                name: CamelNbdOperation
                                constant: flush
                            - to: "nbd:uri?uri=RAW(%s)"
                            - to: "nbd:uri?uri=RAW(%s)&operation=disconnect"
                    """.formatted(to.uri(), to.uri(), to.uri());
            CamelContext context = new DefaultCamelContext();
            try {
                PluginHelper.getRoutesLoader(context).loadRoutes(ResourceHelper.fromString("read-disk.yaml", yaml));
                context.start();
                context.createProducerTemplate().sendBodyAndHeader("direct:read-disk", null, "CamelNbdUri", from.uri().toString());
                MockEndpoint data = context.getEndpoint("mock:data", MockEndpoint.class);
                assertThat(data.getReceivedExchanges()).extracting(e -> e.getMessage().getHeader("CamelNbdOffset", Long.class))
                        .containsExactly(3L << 20, 7L << 20);
            } finally {
                context.stop();
            }
        }
        String out = Tools.run(Duration.ofMinutes(1), List.of("qemu-img", "compare", "-f", "qcow2", "-F", "qcow2",
                src.toString(), dst.toString()));
        assertThat(out).contains("Images are identical");
    }
}
