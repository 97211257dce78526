package dev.coldcopy.qemu;

import static dev.coldcopy.testing.QemuImages.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.coldcopy.security.ImagePolicy;
import dev.coldcopy.security.ImageRefusedException;
import dev.coldcopy.security.RefusedException;

/**
 * A backing file name is judged before anything opens it: a listener on a free local port counts every
 * connection qemu would make to a protocol backing file, and must count none.
 */
class UntrustedBackingFileTest {

    @TempDir
    Path dir;
    @TempDir
    Path outside;
    ServerSocket listener;
    final AtomicInteger connections = new AtomicInteger();
    Thread acceptor;
    ChainInspector inspector;

    @BeforeEach
    void listen() throws IOException {
        listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = new Thread(() -> {
            while (!listener.isClosed()) {
                try (Socket s = listener.accept()) {
                    connections.incrementAndGet();
                } catch (IOException e) {
                    return;
                }
            }
        }, "counting-listener");
        acceptor.setDaemon(true);
        acceptor.start();
        inspector = new ChainInspector(QemuTools.defaults(), new ImagePolicy(List.of(dir)));
    }

    @AfterEach
    void close() throws Exception {
        listener.close();
        acceptor.join(5000);
    }

    /** {@code qemu-img create -u}: the backing file is written into the header, not opened. */
    Path withBacking(Path top, String backing, String format) {
        run("qemu-img", "create", "-q", "-f", "qcow2", "-u", "-b", backing, "-F", format, top.toString(), "4M");
        return top;
    }

    @ParameterizedTest
    @ValueSource(strings = {"nbd://127.0.0.1:PORT/x", "nbd:127.0.0.1:PORT:exportname=x", "http://127.0.0.1:PORT/x.raw",
            "json:{\"file\":{\"driver\":\"nbd\",\"server\":{\"type\":\"inet\",\"host\":\"127.0.0.1\",\"port\":\"PORT\"},\"export\":\"x\"}}",
            "json:{\"file\":{\"driver\":\"http\",\"url\":\"http://127.0.0.1:PORT/x\"}}"})
    void protocolBackingFilesAreRefusedWithoutAConnection(String backing) throws Exception {
        String name = backing.replace("PORT", Integer.toString(listener.getLocalPort()));
        Path top = withBacking(dir.resolve("top.qcow2"), name, "raw");

        assertThatThrownBy(() -> inspector.inspect(top)).isInstanceOf(ImageRefusedException.class)
                .isInstanceOf(RefusedException.class) // permanent: not retried
                .hasMessageContaining("of " + top).hasMessageContaining("not a local file");
        Thread.sleep(200); // a connection attempt, had there been one, has been accepted by now
        assertThat(connections.get()).isZero();
    }

    @Test
    void aProtocolBackingFileDeeperInTheChainIsRefusedToo() throws Exception {
        Path mid = withBacking(dir.resolve("mid.qcow2"), "nbd://127.0.0.1:" + listener.getLocalPort() + "/x", "raw");
        Path top = withBacking(dir.resolve("top.qcow2"), mid.toString(), "qcow2");

        assertThatThrownBy(() -> inspector.inspect(top)).isInstanceOf(ImageRefusedException.class)
                .hasMessageContaining("of " + mid + " (in the chain of " + top + ")").hasMessageContaining("not a local file");
        Thread.sleep(200);
        assertThat(connections.get()).isZero();
    }

    @Test
    void theCheckIsNeededAtAll() throws Exception {
        // the listener really does see qemu-img's connection when the chain is opened the old way
        Path top = withBacking(dir.resolve("top.qcow2"), "nbd://127.0.0.1:" + listener.getLocalPort() + "/x", "raw");
        dev.coldcopy.process.ProcessRunner.run(List.of("qemu-img", "info", "--backing-chain", top.toString()),
                java.time.Duration.ofSeconds(30));
        Thread.sleep(200);
        assertThat(connections.get()).isPositive();
    }

    @Test
    void aBackingFileOutsideTheAllowedRootsIsRefusedBeforeItIsOpened() throws Exception {
        Path secret = createRaw(outside.resolve("secret.raw"), "4M");
        Path top = withBacking(dir.resolve("top.qcow2"), secret.toString(), "raw");
        assertThatThrownBy(() -> inspector.inspect(top)).isInstanceOf(ImageRefusedException.class)
                .hasMessageContaining("refused backing file '" + secret + "' of " + top)
                .hasMessageContaining("outside the allowed roots");

        Path system = withBacking(dir.resolve("etc.qcow2"), "/etc/hostname", "raw");
        assertThatThrownBy(() -> inspector.inspect(system)).isInstanceOf(ImageRefusedException.class)
                .hasMessageContaining("outside the allowed roots");
    }

    @Test
    void relativeAndSymlinkedBackingFilesAreJudgedWhereTheyReallyAre() throws Exception {
        Path secret = createRaw(outside.resolve("secret.raw"), "4M");
        Path relative = withBacking(dir.resolve("rel.qcow2"), dir.relativize(secret).toString(), "raw");
        assertThatThrownBy(() -> inspector.inspect(relative)).isInstanceOf(ImageRefusedException.class)
                .hasMessageContaining("outside the allowed roots");

        Path link = Files.createSymbolicLink(dir.resolve("innocent.raw"), secret);
        Path viaLink = withBacking(dir.resolve("link.qcow2"), link.getFileName().toString(), "raw");
        assertThatThrownBy(() -> inspector.inspect(viaLink)).isInstanceOf(ImageRefusedException.class)
                .hasMessageContaining("resolves to " + secret.toRealPath()).hasMessageContaining("outside the allowed roots");
    }

    @Test
    void anExternalDataFileIsRefused() {
        Path data = dir.resolve("data.raw");
        Path top = dir.resolve("top.qcow2");
        run("qemu-img", "create", "-q", "-f", "qcow2", "-o", "data_file=" + data, top.toString(), "4M");
        assertThatThrownBy(() -> inspector.inspect(top)).isInstanceOf(ImageRefusedException.class)
                .hasMessageContaining("external data file");
    }

    @Test
    void aBackingFormatOtherThanQcow2OrRawIsRefused() {
        Path base = dir.resolve("base.vmdk");
        run("qemu-img", "create", "-q", "-f", "vmdk", base.toString(), "4M");
        Path top = withBacking(dir.resolve("top.qcow2"), base.toString(), "vmdk");
        assertThatThrownBy(() -> inspector.inspect(top)).isInstanceOf(ImageRefusedException.class)
                .hasMessageContaining("format 'vmdk' is not qcow2 or raw");
    }

    @Test
    void aLocalChainInsideTheRootsIsRead() {
        Path base = createRaw(dir.resolve("base.raw"), "4M");
        Path top = withBacking(dir.resolve("top.qcow2"), "base.raw", "raw");
        BackingChain chain = inspector.inspect(top);
        assertThat(chain.layers()).extracting(ImageLayer::path).containsExactly(top, base);
        assertThat(chain.layers()).extracting(ImageLayer::format).containsExactly("qcow2", "raw");
        assertThat(chain.virtualSize()).isEqualTo(4 << 20);
    }

    /**
     * {@code sub/dirlink/../secret.qcow2} where {@code dirlink} points outside: the kernel (and qemu) follow the
     * link first, so the file read is {@code outside/deep/secret.qcow2}, not the {@code sub/secret.qcow2} a
     * lexical clean-up of the name suggests. The decoy inside the root must not be what gets judged.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void dotDotAfterASymlinkedDirectoryIsJudgedWhereTheKernelGoes(boolean decoyPresent) throws Exception {
        Path deeper = Files.createDirectories(outside.resolve("deep/deeper"));
        Path secret = createQcow2(outside.resolve("deep/secret.qcow2"), "4M");
        Path sub = Files.createDirectories(dir.resolve("sub"));
        if (decoyPresent) {
            createQcow2(sub.resolve("secret.qcow2"), "4M");
        }
        Files.createSymbolicLink(sub.resolve("dirlink"), deeper);
        Path top = withBacking(sub.resolve("dotdot.qcow2"), "dirlink/../secret.qcow2", "qcow2");

        assertThatThrownBy(() -> inspector.inspect(top)).isInstanceOf(ImageRefusedException.class)
                .isNotInstanceOf(dev.coldcopy.security.ImageNotFoundException.class)
                .hasMessageContaining("refused backing file 'dirlink/../secret.qcow2' of " + top.toRealPath())
                .hasMessageContaining("resolves to " + secret.toRealPath())
                .hasMessageContaining("outside the allowed roots");
    }

    /** The same trick when the real file outside does not exist: still "outside", never "does not exist". */
    @Test
    void aMissingFileBehindASymlinkedDirectoryIsRefusedAsOutside() throws Exception {
        Path deeper = Files.createDirectories(outside.resolve("deep/deeper"));
        Path sub = Files.createDirectories(dir.resolve("sub"));
        Files.createSymbolicLink(sub.resolve("dirlink"), deeper);
        Path top = withBacking(sub.resolve("dotdot.qcow2"), "dirlink/../missing.qcow2", "qcow2");

        assertThatThrownBy(() -> inspector.inspect(top)).isInstanceOf(ImageRefusedException.class)
                .isNotInstanceOf(dev.coldcopy.security.ImageNotFoundException.class)
                .hasMessageContaining("outside the allowed roots").hasMessageNotContaining("does not exist");
    }

    @Test
    void dotDotInsideTheRootsStillWorks() throws Exception {
        Path base = createQcow2(dir.resolve("base.qcow2"), "4M");
        Path sub = Files.createDirectories(dir.resolve("sub"));
        Path top = withBacking(sub.resolve("top.qcow2"), "../base.qcow2", "qcow2");
        assertThat(inspector.inspect(top).layers()).extracting(ImageLayer::path).containsExactly(top.toRealPath(), base.toRealPath());
    }
}
