package dev.coldcopy.nbd.protocol;

import static dev.coldcopy.nbd.protocol.NbdProtocol.*;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A pure-Java NBD client: one export, one or more connections (more only when the server
 * advertises CAN_MULTI_CONN), many requests in flight on each. Thread-safe.
 *
 * <p>The *Async methods may block the caller while the in-flight window is full (back-pressure);
 * their futures complete on a connection's reader thread, so callbacks must be quick.
 */
public final class NbdClient implements AutoCloseable {
    /** Length hint for non-payload commands (TRIM, WRITE_ZEROES, BLOCK_STATUS): 1 GiB keeps every server happy. */
    private static final long MAX_NON_PAYLOAD = 1L << 30;

    private final NbdUri uri;
    private final NbdClientOptions options;
    private final NbdConnection[] connections;
    private final ExportInfo info;
    private final int minimum;
    /** Request size for READ/WRITE: readRequestSize, capped by the server maximum, a multiple of the minimum. */
    private final int pieceSize;
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();

    private NbdClient(NbdUri uri, NbdClientOptions options, NbdConnection[] connections) {
        this.uri = uri;
        this.options = options;
        this.connections = connections;
        this.info = connections[0].info();
        BlockSize bs = info.blockSize();
        this.minimum = (int) bs.minimum();
        // maximum is unsigned 32-bit (0xFFFFFFFF = no limit): compare as longs
        int piece = (int) Math.min(options.readRequestSize(), bs.maximum());
        piece -= piece % minimum;
        this.pieceSize = Math.max(piece, minimum);
    }

    /** Connects, completes the handshake on every connection and returns a client in transmission phase. */
    public static NbdClient connect(NbdUri uri, NbdClientOptions options) throws IOException {
        NbdConnection first = open(uri, options);
        int count = first.info().canMultiConn() ? options.connections() : 1;
        if (options.connections() > 1 && count == 1) {
            NbdLog.log().debug("export '{}' does not advertise CAN_MULTI_CONN: using one connection", uri.exportName());
        }
        NbdConnection[] all = new NbdConnection[count];
        all[0] = first;
        try {
            for (int i = 1; i < count; i++) {
                all[i] = open(uri, options);
                if (all[i].info().size() != first.info().size() || all[i].info().transmissionFlags() != first.info().transmissionFlags()) {
                    throw new NbdProtocolException("connections to export '" + uri.exportName() + "' disagree on size or flags");
                }
            }
        } catch (IOException | RuntimeException e) {
            for (NbdConnection c : all) {
                if (c != null) {
                    c.close(100);
                }
            }
            throw e;
        }
        return new NbdClient(uri, options, all);
    }

    /** NBD_OPT_LIST: the exports the server offers. */
    public static List<ExportDescription> listExports(NbdUri uri, NbdClientOptions options) throws IOException {
        return session(uri, options, hs -> {
            hs.begin();
            return hs.list();
        });
    }

    /** NBD_OPT_LIST_META_CONTEXT for the URI's export; query e.g. {@code "qemu:dirty-bitmap:"} or null for all. */
    public static List<String> listMetaContexts(NbdUri uri, String query, NbdClientOptions options) throws IOException {
        return session(uri, options, hs -> {
            hs.begin();
            hs.structuredReply();
            return hs.listMetaContexts(query);
        });
    }

    /**
     * Every meta context the URI's export offers (NBD_OPT_LIST_META_CONTEXT with no query), or an empty
     * list when the server has no structured replies and so no contexts at all.
     */
    public static List<String> offeredMetaContexts(NbdUri uri, NbdClientOptions options) throws IOException {
        return session(uri, options, hs -> {
            hs.begin();
            hs.structuredReply();
            return hs.structured() ? hs.listMetaContexts(null) : List.of();
        });
    }

    /** NBD_OPT_INFO: size, flags and block sizes of the URI's export without opening it. */
    public static ExportInfo exportInfo(NbdUri uri, NbdClientOptions options) throws IOException {
        return session(uri, options, hs -> {
            hs.begin();
            return hs.info();
        });
    }

    private interface HandshakeJob<T> {
        T run(Handshake hs) throws IOException;
    }

    /** A handshake-only session, ended with NBD_OPT_ABORT. */
    private static <T> T session(NbdUri uri, NbdClientOptions options, HandshakeJob<T> job) throws IOException {
        requireTlsScheme(uri, options);
        Wire wire = Wire.connect(uri, options.connectTimeout());
        Handshake hs = new Handshake(wire, uri, options);
        AtomicBoolean timedOut = new AtomicBoolean();
        ScheduledFuture<?> guard = guard(hs, timedOut, options);
        try {
            T result = job.run(hs);
            hs.abort();
            return result;
        } catch (IOException e) {
            throw timedOut.get() ? handshakeTimeout(uri, options, e) : e;
        } finally {
            guard.cancel(false);
            hs.wire().close();
        }
    }

    /** TLS credentials with a plain URI would silently send the data unencrypted: refused instead. */
    private static void requireTlsScheme(NbdUri uri, NbdClientOptions options) {
        if (!uri.tls() && (options.sslContext() != null || options.tlsPsk() != null)) {
            throw new IllegalArgumentException(tlsOptionsWithoutTls(uri));
        }
    }

    /** The one-line refusal of TLS options given for a URI without TLS. */
    public static String tlsOptionsWithoutTls(NbdUri uri) {
        return uri.transport() == NbdUri.Transport.TCP
                ? "TLS options given but the URI is nbd://: use nbds://" + uri.toString().substring("nbd://".length())
                        + " for TLS, or drop the TLS options"
                : "TLS options given but the URI is nbd+unix:// (TLS over a Unix socket is not supported): "
                        + "connect over TCP with nbds://HOST:PORT/" + uri.exportName() + ", or drop the TLS options";
    }

    private static NbdConnection open(NbdUri uri, NbdClientOptions options) throws IOException {
        requireTlsScheme(uri, options);
        Wire wire = Wire.connect(uri, options.connectTimeout());
        Handshake hs = new Handshake(wire, uri, options);
        AtomicBoolean timedOut = new AtomicBoolean();
        ScheduledFuture<?> guard = guard(hs, timedOut, options);
        try {
            ExportInfo info = hs.openExport();
            guard.cancel(false);
            if (timedOut.get()) {
                throw new NbdTimeoutException("NBD handshake with " + uri + " timed out");
            }
            return new NbdConnection(hs.wire(), info, options);
        } catch (IOException | RuntimeException e) {
            guard.cancel(false);
            hs.wire().close();
            if (e instanceof IOException io && timedOut.get()) {
                throw handshakeTimeout(uri, options, io);
            }
            throw e;
        }
    }

    /** Blocking reads have no timeout of their own: a watchdog closes the socket if the handshake stalls. */
    private static ScheduledFuture<?> guard(Handshake hs, AtomicBoolean timedOut, NbdClientOptions options) {
        return NbdConnection.WATCHDOG.schedule(() -> {
            timedOut.set(true);
            hs.wire().close();
        }, options.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    private static NbdTimeoutException handshakeTimeout(NbdUri uri, NbdClientOptions options, IOException e) {
        return new NbdTimeoutException("NBD handshake with " + uri + " did not finish within "
                + options.connectTimeout().toMillis() + " ms", e);
    }

    // ------------------------------------------------------------------ facts

    public NbdUri uri() {
        return uri;
    }

    public ExportInfo info() {
        return info;
    }

    public long size() {
        return info.size();
    }

    public boolean isReadOnly() {
        return info.readOnly();
    }

    /** The meta contexts the server accepted, by name. */
    public Set<String> metaContexts() {
        return info.metaContextIds().keySet();
    }

    /** How many connections are open (1 unless the server allows multi-conn). */
    public int connectionCount() {
        return connections.length;
    }

    private NbdConnection connection() {
        if (connections.length == 1) {
            return connections[0];
        }
        return connections[Math.floorMod(next.getAndIncrement(), connections.length)];
    }

    // ------------------------------------------------------------------ async core

    /** Reads {@code dst.remaining()} bytes at {@code offset} into dst (holes as zeroes); dst's position is not moved. */
    public CompletableFuture<Void> readAsync(long offset, ByteBuffer dst) {
        int length = dst.remaining();
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("read destination buffer is read-only");
        }
        checkRange("read", offset, length);
        if (length == 0) {
            return CompletableFuture.completedFuture(null);
        }
        long end = offset + length;
        if (minimum > 1 && (offset % minimum != 0 || (end % minimum != 0 && end != size()))) {
            return unalignedRead(offset, dst);
        }
        if (length <= pieceSize) {
            // the common case (callers reading request-sized pieces): no aggregate, no extra callback
            return connection().send(NBD_CMD_READ, 0, offset, length, dst.duplicate(), null).done;
        }
        int base = dst.position();
        return inPieces(length, pieceSize, (at, n) -> {
            ByteBuffer view = dst.duplicate();
            view.position(base + (int) at);
            return connection().send(NBD_CMD_READ, 0, offset + at, n, view, null).done;
        });
    }

    /** The server wants aligned requests: read the covering aligned range and copy the asked part. */
    private CompletableFuture<Void> unalignedRead(long offset, ByteBuffer dst) {
        long start = offset - offset % minimum;
        long end = Math.min(size(), roundUp(offset + dst.remaining()));
        if (end - start > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("unaligned read too large: " + dst.remaining() + " bytes");
        }
        ByteBuffer bounce = ByteBuffer.allocate((int) (end - start));
        ByteBuffer target = dst.duplicate();
        return readAsync(start, bounce).thenRun(() -> {
            bounce.position((int) (offset - start)).limit((int) (offset - start) + target.remaining());
            target.put(bounce);
        });
    }

    /**
     * Writes {@code src.remaining()} bytes at offset; src's position is not moved. When the server has a
     * minimum block size above 1 and the range is not aligned to it, the partial blocks at either end are
     * read, patched and written back whole (read-modify-write), so the server only sees aligned requests.
     * That is not atomic: another client writing the same partial block at the same time can lose its write.
     */
    public CompletableFuture<Void> writeAsync(long offset, ByteBuffer src, boolean fua) {
        int length = src.remaining();
        checkRange("write", offset, length);
        CompletableFuture<Void> refused = checkWritable("write");
        if (refused != null || length == 0) {
            return refused != null ? refused : CompletableFuture.completedFuture(null);
        }
        if (!aligned(offset, length)) {
            return readModifyWrite(offset, src.duplicate(), fua);
        }
        int flags = fua && info.canFua() ? NBD_CMD_FLAG_FUA : 0;
        int base = src.position();
        return inPieces(length, pieceSize, (at, n) -> {
            ByteBuffer payload = src.duplicate();
            payload.position(base + (int) at).limit(base + (int) (at + n));
            return connection().send(NBD_CMD_WRITE, flags, offset + at, n, null, payload).done;
        });
    }

    /** Reads the partial first and last blocks around the range, lays {@code src} over them, writes the whole. */
    private CompletableFuture<Void> readModifyWrite(long offset, ByteBuffer src, boolean fua) {
        long start = offset - offset % minimum;
        long end = Math.min(size(), roundUp(offset + src.remaining()));
        if (end - start > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("unaligned write too large: " + src.remaining() + " bytes");
        }
        ByteBuffer whole = ByteBuffer.allocate((int) (end - start));
        CompletableFuture<Void> head = CompletableFuture.completedFuture(null);
        CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);
        int length = src.remaining();
        if (offset != start) {
            head = explainRmwRead(readAsync(start, whole.duplicate().limit((int) Math.min(minimum, end - start))),
                    offset, length);
        }
        long lastBlock = Math.max(start, end - minimum);
        if (offset + src.remaining() != end && (lastBlock != start || offset == start)) {
            ByteBuffer view = whole.duplicate();
            view.position((int) (lastBlock - start));
            tail = explainRmwRead(readAsync(lastBlock, view), offset, length);
        }
        return CompletableFuture.allOf(head, tail).thenComposeAsync(v -> {
            ByteBuffer patch = whole.duplicate();
            patch.position((int) (offset - start));
            patch.put(src);
            return writeAsync(start, whole, fua);
        });
    }

    /** A failed read of a partial block names the unaligned write it serves, so a write step does not just report a READ. */
    private CompletableFuture<Void> explainRmwRead(CompletableFuture<Void> read, long writeOffset, int writeLength) {
        return read.handle((v, t) -> {
            Throwable c = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
            if (c == null) {
                return CompletableFuture.<Void>completedFuture(null);
            }
            if (c instanceof NbdServerErrorException s) {
                c = new NbdServerErrorException("the read of a read-modify-write for the unaligned write of " + writeLength
                        + " bytes at offset " + writeOffset + " (the server's minimum block size is " + minimum
                        + ") failed", s);
            }
            return CompletableFuture.<Void>failedFuture(c);
        }).thenCompose(f -> f);
    }

    /**
     * Writes zeroes over the range. {@code noHole} asks the server to allocate (NBD_CMD_FLAG_NO_HOLE);
     * FAST_ZERO is added when {@link NbdClientOptions#fastZero()} and the server offers it. Falls back to
     * writing zero buffers when the server has no WRITE_ZEROES.
     */
    public CompletableFuture<Void> writeZeroesAsync(long offset, long length, boolean noHole) {
        checkRange("writeZeroes", offset, length);
        CompletableFuture<Void> refused = checkWritable("writeZeroes");
        if (refused != null || length == 0) {
            return refused != null ? refused : CompletableFuture.completedFuture(null);
        }
        if (!aligned(offset, length)) {
            // partial blocks at the ends by read-modify-write, the aligned middle as a zero request
            long innerStart = roundUp(offset);
            long innerEnd = Math.max(innerStart, (offset + length) - (offset + length) % minimum);
            if (offset + length == size()) {
                innerEnd = Math.max(innerStart, size());
            }
            List<CompletableFuture<Void>> parts = new ArrayList<>();
            if (innerStart >= offset + length) {
                return writeAsync(offset, ByteBuffer.allocate((int) length), false);
            }
            if (innerStart > offset) {
                parts.add(writeAsync(offset, ByteBuffer.allocate((int) (innerStart - offset)), false));
            }
            if (innerEnd > innerStart) {
                parts.add(writeZeroesAsync(innerStart, innerEnd - innerStart, noHole));
            }
            if (offset + length > innerEnd) {
                parts.add(writeAsync(innerEnd, ByteBuffer.allocate((int) (offset + length - innerEnd)), false));
            }
            return CompletableFuture.allOf(parts.toArray(new CompletableFuture[0]));
        }
        if (!info.canWriteZeroes()) {
            return writeZeroBuffers(offset, length);
        }
        int flags = (noHole ? NBD_CMD_FLAG_NO_HOLE : 0) | (options.fastZero() && info.canFastZero() ? NBD_CMD_FLAG_FAST_ZERO : 0);
        return nonPayload(NBD_CMD_WRITE_ZEROES, flags, offset, length);
    }

    private CompletableFuture<Void> writeZeroBuffers(long offset, long length) {
        ByteBuffer zeroes = ByteBuffer.allocateDirect(pieceSize);
        return inPieces(length, pieceSize, (at, n) ->
                connection().send(NBD_CMD_WRITE, 0, offset + at, n, null, zeroes.duplicate().limit((int) n)).done);
    }

    /** Discards the range (advisory: a no-op when the server has no TRIM). */
    public CompletableFuture<Void> trimAsync(long offset, long length) {
        checkRange("trim", offset, length);
        if (!aligned(offset, length)) {
            // advisory anyway: trim only the whole blocks inside the range
            long innerStart = roundUp(offset);
            long innerEnd = offset + length == size() ? size() : (offset + length) - (offset + length) % minimum;
            return innerEnd > innerStart ? trimAsync(innerStart, innerEnd - innerStart) : CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> refused = checkWritable("trim");
        if (refused != null || length == 0 || !info.canTrim()) {
            return refused != null ? refused : CompletableFuture.completedFuture(null);
        }
        return nonPayload(NBD_CMD_TRIM, 0, offset, length);
    }

    /**
     * Flushes completed writes to stable storage (a no-op when the server has no FLUSH). With several
     * connections every one is flushed, so the call covers writes on all of them.
     */
    public CompletableFuture<Void> flushAsync() {
        if (!info.canFlush()) {
            return CompletableFuture.completedFuture(null);
        }
        Aggregate agg = new Aggregate(connections.length);
        for (NbdConnection c : connections) {
            agg.add(c.send(NBD_CMD_FLUSH, 0, 0, 0, null, null).done);
        }
        return agg.result;
    }

    private CompletableFuture<Void> nonPayload(int command, int flags, long offset, long length) {
        long step = MAX_NON_PAYLOAD - MAX_NON_PAYLOAD % minimum;
        return inPieces(length, step, (at, n) -> connection().send(command, flags, offset + at, n, null, null).done);
    }

    /** One request of a range split into pieces: {@code at} is relative to the range's start. */
    @FunctionalInterface
    private interface PieceRequest {
        CompletableFuture<Void> send(long at, long length);
    }

    /**
     * Sends a range as requests of at most {@code step} bytes, completing when all did; once one has failed
     * no further piece is sent.
     */
    private static CompletableFuture<Void> inPieces(long length, long step, PieceRequest request) {
        int pieces = (int) ((length + step - 1) / step);
        Aggregate agg = new Aggregate(pieces);
        for (long at = 0; at < length; at += step) {
            agg.add(request.send(at, Math.min(step, length - at)));
            if (agg.failed()) {
                break;
            }
        }
        return agg.result;
    }

    // ------------------------------------------------------------------ block status

    /** Extents of one negotiated context over [offset, offset+length) clamped to the export; adjacent equal flags merged. */
    public List<Extent> blockStatus(String context, long offset, long length) throws IOException {
        return blockStatus(List.of(context), offset, length).get(context);
    }

    /** Extents of several negotiated contexts at once; one request per round asks for all of them. */
    public Map<String, List<Extent>> blockStatus(Collection<String> contexts, long offset, long length) throws IOException {
        if (offset < 0 || length < 0 || offset > size()) {
            throw new IllegalArgumentException("block status range [" + offset + ", +" + length + ") outside the export of " + size() + " bytes");
        }
        long end = Math.min(size(), offset + length);
        Map<String, Integer> ids = new LinkedHashMap<>();
        for (String c : contexts) {
            Integer id = info.metaContextIds().get(c);
            if (id == null) {
                throw new NbdException("meta context '" + c + "' was not negotiated with export '" + uri.exportName()
                        + "' (negotiated: " + info.metaContextIds().keySet() + "; ask for it in NbdClientOptions.metaContexts)");
            }
            ids.put(c, id);
        }
        Map<String, List<Extent>> result = new LinkedHashMap<>();
        Map<String, Long> cursor = new LinkedHashMap<>();
        for (String c : ids.keySet()) {
            result.put(c, new ArrayList<>());
            cursor.put(c, offset);
        }
        while (true) {
            long from = end;
            for (long c : cursor.values()) {
                from = Math.min(from, c);
            }
            if (from >= end) {
                break;
            }
            // the request must start aligned; extents before `from` are ignored below
            long start = from - from % minimum;
            long hint = Math.min(end - start, MAX_NON_PAYLOAD - MAX_NON_PAYLOAD % minimum);
            if (minimum > 1 && hint % minimum != 0 && start + hint != size()) {
                hint = Math.min(size() - start, roundUp(hint));
            }
            NbdConnection.Request r = connection().send(NBD_CMD_BLOCK_STATUS, 0, start, hint, null, null);
            await(r.done);
            boolean progress = false;
            for (Map.Entry<String, Integer> e : ids.entrySet()) {
                String c = e.getKey();
                long at = cursor.get(c);
                if (at >= end) {
                    continue;
                }
                List<Extent> got = r.extents.get(e.getValue());
                if (got == null) {
                    continue;
                }
                for (Extent x : got) {
                    long s = Math.max(x.offset(), at);
                    long t = Math.min(x.end(), end);
                    if (t > s) {
                        append(result.get(c), new Extent(s, t - s, x.flags()));
                        at = t;
                        progress = true;
                    }
                }
                cursor.put(c, at);
            }
            if (!progress) {
                throw new NbdProtocolException("NBD_CMD_BLOCK_STATUS at offset " + start + " made no progress");
            }
        }
        return result;
    }

    private static void append(List<Extent> list, Extent e) {
        if (!list.isEmpty()) {
            Extent last = list.get(list.size() - 1);
            if (last.flags() == e.flags() && last.end() == e.offset()) {
                list.set(list.size() - 1, new Extent(last.offset(), last.length() + e.length(), last.flags()));
                return;
            }
        }
        list.add(e);
    }

    // ------------------------------------------------------------------ synchronous conveniences

    public byte[] read(long offset, int length) throws IOException {
        byte[] b = new byte[length];
        await(readAsync(offset, ByteBuffer.wrap(b)));
        return b;
    }

    public void read(long offset, ByteBuffer dst) throws IOException {
        await(readAsync(offset, dst));
    }

    public void write(long offset, ByteBuffer src) throws IOException {
        await(writeAsync(offset, src, false));
    }

    public void writeZeroes(long offset, long length) throws IOException {
        await(writeZeroesAsync(offset, length, false));
    }

    public void trim(long offset, long length) throws IOException {
        await(trimAsync(offset, length));
    }

    public void flush() throws IOException {
        await(flushAsync());
    }

    /** Sends NBD_CMD_DISC on every connection (letting in-flight requests finish briefly) and closes. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        // all connections say goodbye at once, then we wait for each to hang up
        for (NbdConnection c : connections) {
            c.sendDisconnect();
        }
        long wait = Math.min(2000, options.ioTimeout().toMillis());
        for (NbdConnection c : connections) {
            c.awaitClosed(wait);
        }
    }

    // ------------------------------------------------------------------ helpers

    static <T> T await(CompletableFuture<T> f) throws IOException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof NbdServerErrorException s) {
                // rethrow with the caller's stack trace, keeping the type and message
                NbdServerErrorException copy = new NbdServerErrorException(s);
                throw copy;
            }
            if (c instanceof IOException io) {
                throw io;
            }
            if (c instanceof RuntimeException re) {
                throw re;
            }
            throw new NbdException(String.valueOf(c), c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for the NBD server");
        }
    }

    private void checkRange(String what, long offset, long length) {
        if (closed.get()) {
            throw new IllegalStateException("NBD client for " + uri + " is closed");
        }
        if (offset < 0 || length < 0 || offset + length > size()) {
            throw new IllegalArgumentException(what + " range [" + offset + ", +" + length + ") is outside the export of "
                    + size() + " bytes");
        }
    }

    /** Whether the server accepts the range as one request: both ends on its minimum block size (or the export's end). */
    private boolean aligned(long offset, long length) {
        return minimum == 1 || (offset % minimum == 0 && (length % minimum == 0 || offset + length == size()));
    }

    private CompletableFuture<Void> checkWritable(String what) {
        if (info.readOnly()) {
            return CompletableFuture.failedFuture(new NbdException("cannot " + what + ": export '" + uri.exportName() + "' is read-only"));
        }
        return null;
    }

    private long roundUp(long v) {
        return (v + minimum - 1) / minimum * minimum;
    }

    /** Completes when every part completed, or at the first failure. */
    private static final class Aggregate {
        final CompletableFuture<Void> result = new CompletableFuture<>();
        private final AtomicInteger remaining;

        Aggregate(int parts) {
            remaining = new AtomicInteger(parts);
        }

        void add(CompletableFuture<Void> part) {
            part.whenComplete((v, e) -> {
                if (e != null) {
                    result.completeExceptionally(e);
                } else if (remaining.decrementAndGet() == 0) {
                    result.complete(null);
                }
            });
        }

        boolean failed() {
            return result.isCompletedExceptionally();
        }
    }
}
