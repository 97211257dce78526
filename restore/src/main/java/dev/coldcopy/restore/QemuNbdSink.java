package dev.coldcopy.restore;

import dev.coldcopy.process.ProcessRunner;
import dev.coldcopy.nbd.protocol.NbdClient;
import dev.coldcopy.nbd.protocol.NbdClientOptions;
import dev.coldcopy.nbd.protocol.NbdUri;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import dev.coldcopy.process.Processes;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Writes into an image through a private, writable qemu-nbd export (Unix socket in a 0700 temp dir,
 * started with --fork and a pid file so its exit status tells whether it is serving) with the project's
 * NBD client. Ranges never written stay unallocated: the new qcow2 stays sparse. close() disconnects,
 * stops qemu-nbd and removes the socket dir, whatever happened.
 *
 * <p>Without {@code sync} qemu-nbd runs with {@code --cache=unsafe}, as {@code qemu-img convert} writes its
 * output: an NBD flush then only hands qemu's cached qcow2 metadata to the kernel (and reports a failure to
 * do so), it does not wait for the disk. With {@code sync} the flush is an fsync.
 */
final class QemuNbdSink implements DiskSink {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final Path dir;
    private final Path pidFile;
    private NbdClient client;

    QemuNbdSink(Path image, String format, boolean sync) throws IOException {
        dir = Files.createTempDirectory("coldcopy-restore-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        pidFile = dir.resolve("qemu-nbd.pid");
        Path socket = dir.resolve("nbd.sock");
        try {
            ProcessRunner.output(List.of("qemu-nbd", "--fork", "--pid-file", pidFile.toString(),
                    "--format", format, "--socket", socket.toString(), "--cache", sync ? "writeback" : "unsafe", "--discard", "unmap",
                    image.toString()), START_TIMEOUT);
            client = NbdClient.connect(NbdUri.unix(socket, ""), NbdClientOptions.builder().ioTimeout(Duration.ofMinutes(5)).build());
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public void write(long offset, byte[] data, int from, int length) throws IOException {
        await(client.writeAsync(offset, ByteBuffer.wrap(data, from, length), false));
    }

    @Override
    public java.util.concurrent.CompletableFuture<Void> writeAsync(long offset, byte[] data, int from, int length) {
        return client.writeAsync(offset, ByteBuffer.wrap(data, from, length), false);
    }

    @Override
    public void writeZeroes(long offset, long length) throws IOException {
        client.writeZeroes(offset, length);
    }

    @Override
    public void flush() throws IOException {
        client.flush();
    }

    private static void await(java.util.concurrent.CompletableFuture<Void> f) throws IOException {
        try {
            f.get(10, TimeUnit.MINUTES);
        } catch (ExecutionException | CompletionException e) {
            Throwable c = e.getCause();
            throw c instanceof IOException io ? io : new IOException(String.valueOf(c), c);
        } catch (TimeoutException e) {
            throw new IOException("NBD write did not complete within 10 minutes");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
    }

    @Override
    public synchronized void close() throws IOException {
        if (client != null) {
            client.close();
            client = null;
        }
        if (!Files.isDirectory(dir)) {
            return; // closed already (an interrupted restore closes it from a shutdown hook too)
        }
        try {
            // qemu-nbd leaves on its own when its only client disconnects; make sure. It is not our child
            // (--fork), so ProcessHandle.onExit() would only notice its exit by slow polling: poll /proc.
            Processes.readPidFile(pidFile).ifPresent(pid -> Processes.terminate(pid, Duration.ofSeconds(10)));
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
    }
}
