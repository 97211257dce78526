package dev.coldcopy.nbd.bench;

import dev.coldcopy.nbd.protocol.Extent;
import dev.coldcopy.nbd.protocol.NbdClient;
import dev.coldcopy.nbd.protocol.NbdClientOptions;
import dev.coldcopy.nbd.protocol.NbdUri;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Reads every data extent of an export and throws the bytes away, like {@code nbdcopy URI null:}:
 * base:allocation decides what to read (ZERO extents are skipped), asked window by window so extent
 * queries overlap the reads; requests of 256 KiB; a bounded pool of buffers in flight spread over up
 * to 4 connections.
 * <pre>java -cp ... dev.coldcopy.nbd.bench.ReadBench URI [connections=4] [buffers=64] [requestSize=262144] [passes=1]</pre>
 * {@code -Dbench.verbose=true} prints phases and per-thread CPU.
 */
public final class ReadBench {
    /** Extents are asked for this much of the disk at a time. */
    private static final long WINDOW = 256L << 20;

    private ReadBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: ReadBench NBD-URI [connections] [buffers] [requestSize] [passes]");
            System.exit(2);
        }
        NbdUri uri = NbdUri.parse(args[0]);
        int connections = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        int buffers = args.length > 2 ? Integer.parseInt(args[2]) : 64;
        int requestSize = args.length > 3 ? Integer.parseInt(args[3]) : 256 * 1024;
        int passes = args.length > 4 ? Integer.parseInt(args[4]) : 1;
        boolean verbose = Boolean.getBoolean("bench.verbose");
        NbdClientOptions options = NbdClientOptions.builder().metaContexts("base:allocation").connections(connections)
                .maxInFlight(Math.max(1, (buffers + connections - 1) / connections) + 1).readRequestSize(requestSize).build();
        long start = System.nanoTime();
        try (NbdClient client = NbdClient.connect(uri, options)) {
            phase(verbose, "connected", start);
            ArrayBlockingQueue<ByteBuffer> pool = new ArrayBlockingQueue<>(buffers);
            for (int i = 0; i < buffers; i++) {
                pool.add(ByteBuffer.allocateDirect(requestSize));
            }
            for (int pass = 0; pass < passes; pass++) {
                long passStart = System.nanoTime();
                AtomicLong bytes = new AtomicLong();
                AtomicReference<Throwable> failure = new AtomicReference<>();
                Semaphore outstanding = new Semaphore(0);
                long requests = 0;
                for (long w = 0; w < client.size() && failure.get() == null; w += WINDOW) {
                    for (Extent e : client.blockStatus("base:allocation", w, WINDOW)) {
                        if (e.isZero()) {
                            continue;
                        }
                        for (long at = e.offset(); at < e.end() && failure.get() == null; at += requestSize) {
                            int n = (int) Math.min(requestSize, e.end() - at);
                            ByteBuffer b = pool.take();
                            b.clear().limit(n);
                            requests++;
                            client.readAsync(at, b).whenComplete((v, err) -> {
                                if (err != null) {
                                    failure.compareAndSet(null, err);
                                } else {
                                    bytes.addAndGet(b.remaining());
                                }
                                pool.add(b);
                                outstanding.release();
                            });
                        }
                    }
                }
                outstanding.acquire((int) requests);
                if (failure.get() != null) {
                    System.err.println("read failed: " + failure.get());
                    System.exit(1);
                }
                double secs = (System.nanoTime() - passStart) / 1e9;
                System.out.printf("read %d bytes of data (%d requests, %d connections) in %.2f s: %.0f MiB/s%n",
                        bytes.get(), requests, client.connectionCount(), secs, bytes.get() / secs / (1 << 20));
            }
            if (verbose) {
                threadTimes();
            }
        }
        phase(verbose, "closed", start);
    }

    private static void phase(boolean verbose, String what, long start) {
        if (verbose) {
            System.err.printf("%s after %.3f s, main thread cpu %.3f s%n", what, (System.nanoTime() - start) / 1e9,
                    ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() / 1e9);
        }
    }

    private static void threadTimes() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        for (ThreadInfo t : mx.dumpAllThreads(false, false)) {
            System.err.printf("  thread %-20s cpu %.3f s (user %.3f s)%n", t.getThreadName(),
                    mx.getThreadCpuTime(t.getThreadId()) / 1e9, mx.getThreadUserTime(t.getThreadId()) / 1e9);
        }
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            System.err.printf("  process cpu %.3f s%n", os.getProcessCpuTime() / 1e9);
        }
    }
}
