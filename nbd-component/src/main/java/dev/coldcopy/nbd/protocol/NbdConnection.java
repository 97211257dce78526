package dev.coldcopy.nbd.protocol;

import static dev.coldcopy.nbd.protocol.NbdProtocol.*;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One NBD connection in the transmission phase. Callers send requests (writes to the socket are
 * serialized by a lock, in-flight requests bounded by a semaphore); one reader thread takes replies
 * in whatever order they come, matches them to requests by cookie and completes their futures.
 * Futures complete on the reader thread: callbacks must not block and must not issue new requests
 * synchronously when the window is full (use the *Async variants of CompletableFuture).
 * When the connection dies, every pending request fails with the same cause.
 */
final class NbdConnection {
    private static final AtomicInteger IDS = new AtomicInteger();
    /** One daemon thread watches every connection for replies that do not come. */
    static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "nbd-watchdog");
        t.setDaemon(true);
        return t;
    });
    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(256 * 1024);
    /** Block status and error chunks larger than this are a broken or hostile server. */
    private static final long MAX_CHUNK_PAYLOAD = 64 * 1024 * 1024;

    /** A request in flight; only the reader thread touches it after it is sent. */
    static final class Request {
        final int command;
        final long offset;
        final long length;
        final CompletableFuture<Void> done = new CompletableFuture<>();
        /** READ: private view of the caller's buffer; position 0 of the request is {@code dstBase}. */
        final ByteBuffer dst;
        final int dstBase;
        long covered;
        long sentNanos;
        NbdException error;
        /** BLOCK_STATUS: extents per context id, in order. */
        Map<Integer, List<Extent>> extents;

        Request(int command, long offset, long length, ByteBuffer dst) {
            this.command = command;
            this.offset = offset;
            this.length = length;
            this.dst = dst;
            this.dstBase = dst == null ? 0 : dst.position();
        }
    }

    final int id = IDS.incrementAndGet();
    private final Wire wire;
    private final ExportInfo info;
    private final NbdClientOptions options;
    private final Semaphore window;
    private final ConcurrentHashMap<Long, Request> pending = new ConcurrentHashMap<>();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final ByteBuffer requestHeader = ByteBuffer.allocateDirect(28);
    private final Thread reader;
    private final ScheduledFuture<?> watchdog;
    private long nextCookie = 1;
    private volatile NbdException failure;
    private volatile boolean closing;
    private volatile long lastReceiveNanos = System.nanoTime();
    /** Reader thread only: the header of the reply being read (a hole chunk's length goes at 28). */
    private final ByteBuffer replyHeader = ByteBuffer.allocateDirect(32);
    /** Reader thread only: block status and error payloads, grown as needed. */
    private ByteBuffer scratch = ByteBuffer.allocate(4096);

    NbdConnection(Wire wire, ExportInfo info, NbdClientOptions options) {
        this.wire = wire;
        this.info = info;
        this.options = options;
        this.window = new Semaphore(options.maxInFlight());
        this.reader = new Thread(this::readLoop, "nbd-reader-" + id);
        this.reader.setDaemon(true);
        this.reader.start();
        long period = Math.max(100, Math.min(1000, options.ioTimeout().toMillis() / 4));
        this.watchdog = WATCHDOG.scheduleAtFixedRate(this::checkTimeout, period, period, TimeUnit.MILLISECONDS);
    }

    ExportInfo info() {
        return info;
    }

    boolean isAlive() {
        return failure == null;
    }

    /**
     * Sends one request (blocking while the window is full) and returns it; its {@code done} completes
     * when the reply arrived. {@code payload} is the data of a WRITE.
     */
    Request send(int command, int flags, long offset, long length, ByteBuffer dst, ByteBuffer payload) {
        Request r = new Request(command, offset, length, dst);
        if (command == NBD_CMD_BLOCK_STATUS) {
            r.extents = new HashMap<>(4);
        }
        NbdException dead = failure;
        if (dead != null) {
            r.done.completeExceptionally(dead);
            return r;
        }
        if (!acquireWindow(r)) {
            return r;
        }
        long cookie;
        writeLock.lock();
        try {
            cookie = nextCookie++;
            r.sentNanos = System.nanoTime();
            pending.put(cookie, r);
            if (failure != null) {
                // the connection died between our check and the registration: fail it ourselves
                if (pending.remove(cookie) != null) {
                    finish(r, failure);
                }
                return r;
            }
            ByteBuffer h = requestHeader;
            h.clear();
            h.putInt(NBD_REQUEST_MAGIC).putShort((short) flags).putShort((short) command)
                    .putLong(cookie).putLong(offset).putInt((int) length).flip();
            wire.write(h, payload);
        } catch (IOException e) {
            die(new NbdConnectionLostException("connection to the NBD server lost while sending "
                    + commandName(command) + ": " + e.getMessage(), e));
        } finally {
            writeLock.unlock();
        }
        return r;
    }

    private boolean acquireWindow(Request r) {
        if (Thread.currentThread() == reader) {
            // blocking here would stop the only thread that frees the window
            if (!window.tryAcquire()) {
                r.done.completeExceptionally(new IllegalStateException(
                        "NBD request issued from a completion callback on the reader thread while the window is full; "
                                + "use the *Async CompletableFuture methods"));
                return false;
            }
            return true;
        }
        try {
            window.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            r.done.completeExceptionally(new java.io.InterruptedIOException("interrupted waiting to send " + commandName(r.command)));
            return false;
        }
        NbdException dead = failure;
        if (dead != null) {
            window.release();
            r.done.completeExceptionally(dead);
            return false;
        }
        return true;
    }

    /** Sends NBD_CMD_DISC, lets the server answer what is in flight, then closes. Idempotent. */
    void close(long waitMillis) {
        sendDisconnect();
        awaitClosed(waitMillis);
    }

    /** First half of a close: NBD_CMD_DISC and half-close; the server answers what is in flight, then hangs up. */
    void sendDisconnect() {
        if (closing) {
            return;
        }
        closing = true;
        if (failure != null) {
            return;
        }
        writeLock.lock();
        try {
            requestHeader.clear();
            requestHeader.putInt(NBD_REQUEST_MAGIC).putShort((short) 0).putShort((short) NBD_CMD_DISC)
                    .putLong(0).putLong(0).putInt(0).flip();
            wire.write(requestHeader, null);
            wire.shutdownOutput();
        } catch (IOException e) {
            NbdLog.log().debug("sending NBD_CMD_DISC failed: {}", e.toString());
        } finally {
            writeLock.unlock();
        }
    }

    /** Second half: waits (bounded) for the server to hang up, then releases everything. */
    void awaitClosed(long waitMillis) {
        if (failure == null) {
            try {
                reader.join(waitMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        die(new NbdConnectionLostException("NBD connection closed by the client"));
        watchdog.cancel(false);
    }

    /** Fails the connection once: closes the socket, fails every pending request, wakes blocked senders. */
    private void die(NbdException cause) {
        synchronized (this) {
            if (failure != null) {
                return;
            }
            failure = cause;
        }
        if (!closing) {
            // debug only: every request pending or sent later fails with this cause, so the caller reports it
            NbdLog.log().debug("NBD connection {} to export '{}' failed: {}", id, info.name(), cause.getMessage());
        }
        wire.close();
        watchdog.cancel(false);
        for (Iterator<Map.Entry<Long, Request>> it = pending.entrySet().iterator(); it.hasNext(); ) {
            Request r = it.next().getValue();
            it.remove();
            finish(r, cause);
        }
        // wake any sender blocked on the window; they see the failure and give up
        window.release(Integer.MAX_VALUE / 2);
    }

    private void finish(Request r, Throwable error) {
        window.release();
        if (error != null) {
            r.done.completeExceptionally(error);
        } else {
            r.done.complete(null);
        }
    }

    private void checkTimeout() {
        if (failure != null || pending.isEmpty()) {
            return;
        }
        long now = System.nanoTime();
        long limit = options.ioTimeout().toNanos();
        if (now - lastReceiveNanos < limit) {
            return;
        }
        for (Request r : pending.values()) {
            if (now - r.sentNanos > limit) {
                die(new NbdTimeoutException("no reply from the NBD server within " + options.ioTimeout().toMillis() + " ms ("
                        + commandName(r.command) + " at offset " + r.offset + ")"));
                return;
            }
        }
    }

    // ------------------------------------------------------------------ reader

    private void readLoop() {
        ByteBuffer h = replyHeader;
        try {
            while (true) {
                h.clear().limit(16);
                wire.readFully(h);
                lastReceiveNanos = System.nanoTime();
                int magic = h.getInt(0);
                if (magic == NBD_STRUCTURED_REPLY_MAGIC && info.structuredReplies()) {
                    structuredChunk(h);
                } else if (magic == NBD_SIMPLE_REPLY_MAGIC) {
                    simpleReply(h);
                } else {
                    throw new NbdProtocolException("bad reply magic 0x" + Integer.toHexString(magic));
                }
            }
        } catch (NbdException e) {
            die(e);
        } catch (EOFException e) {
            die(new NbdConnectionLostException(closing ? "NBD connection closed by the client"
                    : "NBD server closed the connection (" + pending.size() + " requests pending)"));
        } catch (IOException e) {
            die(new NbdConnectionLostException(closing ? "NBD connection closed by the client"
                    : "NBD connection lost: " + e.getMessage(), e));
        } catch (RuntimeException e) {
            die(new NbdProtocolException("NBD reply handling failed: " + e, e));
        }
    }

    private Request lookup(long cookie) throws NbdProtocolException {
        Request r = pending.get(cookie);
        if (r == null) {
            throw new NbdProtocolException("NBD reply for unknown cookie " + cookie);
        }
        return r;
    }

    private void simpleReply(ByteBuffer h) throws IOException {
        int error = h.getInt(4);
        long cookie = h.getLong(8);
        Request r = lookup(cookie);
        if (error != 0) {
            pending.remove(cookie);
            finish(r, new NbdServerErrorException(r.command, error, r.offset, r.length, null));
            return;
        }
        if (r.command == NBD_CMD_READ) {
            if (info.structuredReplies()) {
                throw new NbdProtocolException("simple reply with data to NBD_CMD_READ after structured replies were negotiated");
            }
            ByteBuffer d = r.dst;
            d.limit(r.dstBase + (int) r.length).position(r.dstBase);
            wire.readFully(d);
        }
        pending.remove(cookie);
        finish(r, null);
    }

    /** One chunk of a structured reply: its header is in {@code h}, one method per NBD_REPLY_TYPE_* reads the rest. */
    private void structuredChunk(ByteBuffer h) throws IOException {
        int flags = h.getShort(4) & 0xffff;
        int type = h.getShort(6) & 0xffff;
        long cookie = h.getLong(8);
        Request r = lookup(cookie);
        long length = readChunkLength(h, type);
        switch (type) {
            case NBD_REPLY_TYPE_NONE -> noneChunk(flags, length);
            case NBD_REPLY_TYPE_OFFSET_DATA -> offsetDataChunk(r, h.getLong(20), length);
            case NBD_REPLY_TYPE_OFFSET_HOLE -> offsetHoleChunk(r, h.getLong(20), length);
            case NBD_REPLY_TYPE_BLOCK_STATUS -> blockStatusChunk(r, length);
            case NBD_REPLY_TYPE_ERROR -> errorChunk(r, length, false);
            case NBD_REPLY_TYPE_ERROR_OFFSET -> errorChunk(r, length, true);
            default -> unknownChunk(r, type, length);
        }
        if ((flags & NBD_REPLY_FLAG_DONE) != 0) {
            pending.remove(cookie);
            finishStructured(r);
        }
    }

    /**
     * Reads the payload length field that ends every chunk header and, for the two offset chunks, the
     * offset that starts their payload.
     */
    private long readChunkLength(ByteBuffer h, int type) throws IOException {
        boolean offsetChunk = type == NBD_REPLY_TYPE_OFFSET_DATA || type == NBD_REPLY_TYPE_OFFSET_HOLE;
        h.clear().position(16).limit(offsetChunk ? 28 : 20);
        wire.readFully(h);
        return h.getInt(16) & 0xffffffffL;
    }

    private static void noneChunk(int flags, long length) throws NbdProtocolException {
        if (length != 0 || (flags & NBD_REPLY_FLAG_DONE) == 0) {
            throw new NbdProtocolException("bad NBD_REPLY_TYPE_NONE chunk");
        }
    }

    /** Read data at {@code offset}: the chunk length counts the offset field too. */
    private void offsetDataChunk(Request r, long offset, long length) throws IOException {
        if (length < 8) {
            throw new NbdProtocolException("NBD_REPLY_TYPE_OFFSET_DATA chunk too short");
        }
        long dataLength = length - 8;
        checkInside(r, offset, dataLength, "NBD_REPLY_TYPE_OFFSET_DATA");
        ByteBuffer d = r.dst;
        int at = r.dstBase + (int) (offset - r.offset);
        d.limit(at + (int) dataLength).position(at);
        wire.readFully(d);
        r.covered += dataLength;
    }

    /** A range of the read that is zeroes: 64-bit offset and 32-bit hole length, nothing more. */
    private void offsetHoleChunk(Request r, long offset, long length) throws IOException {
        if (length != 12) {
            throw new NbdProtocolException("NBD_REPLY_TYPE_OFFSET_HOLE chunk has length " + length + ", expected 12");
        }
        ByteBuffer h = replyHeader;
        h.clear().position(28).limit(32);
        wire.readFully(h);
        long holeLength = h.getInt(28) & 0xffffffffL;
        checkInside(r, offset, holeLength, "NBD_REPLY_TYPE_OFFSET_HOLE");
        zero(r.dst, r.dstBase + (int) (offset - r.offset), (int) holeLength);
        r.covered += holeLength;
    }

    /** Extents of one meta context, each following the previous one (the first at the request's offset). */
    private void blockStatusChunk(Request r, long length) throws IOException {
        if (r.command != NBD_CMD_BLOCK_STATUS || length < 12 || (length - 4) % 8 != 0) {
            throw new NbdProtocolException("bad NBD_REPLY_TYPE_BLOCK_STATUS chunk (length " + length
                    + ") for " + commandName(r.command));
        }
        ByteBuffer payload = readPayload(length);
        int contextId = payload.getInt();
        List<Extent> list = r.extents.computeIfAbsent(contextId, k -> new ArrayList<>());
        long at = list.isEmpty() ? r.offset : list.get(list.size() - 1).end();
        while (payload.hasRemaining()) {
            long len = payload.getInt() & 0xffffffffL;
            int extentFlags = payload.getInt();
            if (len == 0) {
                throw new NbdProtocolException("zero-length extent in NBD_REPLY_TYPE_BLOCK_STATUS");
            }
            list.add(new Extent(at, len, extentFlags));
            at += len;
        }
    }

    /** The spec asks clients to treat chunk types they do not know as errors when their error bit is set. */
    private void unknownChunk(Request r, int type, long length) throws IOException {
        if ((type & 0x8000) == 0) {
            throw new NbdProtocolException("unknown structured reply chunk type " + type);
        }
        errorChunk(r, length, false);
    }

    /**
     * NBD_REPLY_TYPE_ERROR and NBD_REPLY_TYPE_ERROR_OFFSET: error number and message, then for the latter the
     * offset where the failure starts. The first error of a request is the one reported.
     */
    private void errorChunk(Request r, long length, boolean withOffset) throws IOException {
        if (length < 6) {
            throw new NbdProtocolException("error chunk too short");
        }
        ByteBuffer payload = readPayload(length);
        int error = payload.getInt();
        int msgLen = payload.getShort() & 0xffff;
        if (msgLen > payload.remaining()) {
            throw new NbdProtocolException("error chunk message longer than the chunk");
        }
        byte[] msg = new byte[msgLen];
        payload.get(msg);
        long errOffset = r.offset;
        if (withOffset) {
            if (payload.remaining() < 8) {
                throw new NbdProtocolException("NBD_REPLY_TYPE_ERROR_OFFSET chunk lacks its offset");
            }
            errOffset = payload.getLong();
        }
        if (r.error == null) {
            r.error = new NbdServerErrorException(r.command, error == 0 ? NBD_EINVAL : error, errOffset,
                    withOffset ? r.length - (errOffset - r.offset) : r.length,
                    new String(msg, StandardCharsets.UTF_8).strip());
        }
    }

    /** The chunk flagged NBD_REPLY_FLAG_DONE ends the request: with its first error, or short of data. */
    private void finishStructured(Request r) {
        if (r.error != null) {
            finish(r, r.error);
        } else if (r.command == NBD_CMD_READ && r.covered != r.length) {
            finish(r, new NbdProtocolException("NBD_CMD_READ at offset " + r.offset + " (" + r.length
                    + " bytes) completed with only " + r.covered + " bytes"));
        } else {
            finish(r, null);
        }
    }

    private static void checkInside(Request r, long offset, long len, String what) throws NbdProtocolException {
        if (r.command != NBD_CMD_READ) {
            throw new NbdProtocolException(what + " chunk for " + commandName(r.command));
        }
        // offset is unsigned 64-bit on the wire: above 2^63 it reads negative here, and offset + len could
        // overflow, so compare distances rather than ends
        if (offset < r.offset || len > r.length || offset - r.offset > r.length - len) {
            throw new NbdProtocolException(what + " chunk [" + Long.toUnsignedString(offset) + ", +" + len + ") outside the request ["
                    + r.offset + ", +" + r.length + ")");
        }
    }

    /** Reads a chunk payload whose length is the unsigned 32-bit field of the chunk header. */
    private ByteBuffer readPayload(long len) throws IOException {
        if (scratch.capacity() < len) {
            if (len > MAX_CHUNK_PAYLOAD) {
                throw new NbdProtocolException("structured reply chunk too large: " + len + " bytes");
            }
            scratch = ByteBuffer.allocate((int) Math.max(len, scratch.capacity() * 2L));
        }
        scratch.clear().limit((int) len);
        wire.readFully(scratch);
        scratch.flip();
        return scratch;
    }

    private static void zero(ByteBuffer d, int at, int len) {
        int end = at + len;
        while (at < end) {
            int n = Math.min(end - at, ZEROES.capacity());
            d.limit(at + n).position(at);
            d.put(ZEROES.duplicate().limit(n));
            at += n;
        }
    }
}
