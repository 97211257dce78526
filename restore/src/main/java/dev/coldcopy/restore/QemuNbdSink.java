package dev.coldcopy.restore;

import dev.coldcopy.nbd.protocol.NbdClient;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Writes into an image through a private, writable qemu-nbd export (Unix socket in a 0700 temp dir, see
 * {@link PrivateNbdExport}) with the project's NBD client. Ranges never written stay unallocated: the new
 * qcow2 stays sparse. close() disconnects, stops qemu-nbd and removes the socket dir, whatever happened.
 *
 * <p>Without {@code sync} qemu-nbd runs with {@code --cache=unsafe}, as {@code qemu-img convert} writes its
 * output: an NBD flush then only hands qemu's cached qcow2 metadata to the kernel (and reports a failure to
 * do so), it does not wait for the disk. With {@code sync} the flush is an fsync.
 */
final class QemuNbdSink implements DiskSink {
    private final PrivateNbdExport export;
    private final NbdClient client;

    QemuNbdSink(Path image, String format, boolean sync) throws IOException {
        export = PrivateNbdExport.open("coldcopy-restore-", image, List.of("--format=" + format,
                "--cache=" + (sync ? "writeback" : "unsafe"), "--discard=unmap"));
        client = export.client();
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

    /** Also called from a shutdown hook when a restore is interrupted: once is enough. */
    @Override
    public void close() throws IOException {
        export.close();
    }
}
