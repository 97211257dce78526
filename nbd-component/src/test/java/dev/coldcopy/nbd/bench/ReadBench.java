package dev.coldcopy.nbd.bench;

import dev.coldcopy.nbd.protocol.Extent;
import dev.coldcopy.nbd.protocol.Extents;
import dev.coldcopy.nbd.protocol.NbdClient;
import dev.coldcopy.nbd.protocol.NbdClientOptions;
import dev.coldcopy.nbd.protocol.NbdUri;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Reads every data extent of an export and throws the bytes away, like {@code nbdcopy URI null:}:
 * base:allocation decides what to read (ZERO extents are skipped), requests of 256 KiB, a bounded
 * pool of buffers in flight spread over up to 4 connections.
 * <pre>java -cp ... dev.coldcopy.nbd.bench.ReadBench URI [connections=4] [buffers=64] [requestSize=262144] [passes=1]</pre>
 */
public final class ReadBench {
    private ReadBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: ReadBench NBD-URI [connections] [buffers] [requestSize]");
            System.exit(2);
        }
        NbdUri uri = NbdUri.parse(args[0]);
        int connections = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        int buffers = args.length > 2 ? Integer.parseInt(args[2]) : 64;
        int requestSize = args.length > 3 ? Integer.parseInt(args[3]) : 256 * 1024;
        int passes = args.length > 4 ? Integer.parseInt(args[4]) : 1;
        NbdClientOptions options = NbdClientOptions.builder().metaContexts("base:allocation").connections(connections)
                .maxInFlight(Math.max(1, (buffers + connections - 1) / connections) + 1).readRequestSize(requestSize).build();
        long start = System.nanoTime();
        boolean verbose = Boolean.getBoolean("bench.verbose");
        try (NbdClient client = NbdClient.connect(uri, options)) {
            if (verbose) {
                System.err.printf("connected after %.3f s, main cpu %.3f s%n", (System.nanoTime() - start) / 1e9, java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() / 1e9);
            }
            List<Extent> data = Extents.data(client.blockStatus("base:allocation", 0, client.size()));
            if (verbose) {
                System.err.printf("block status after %.3f s: %d data extents, main cpu %.3f s%n", (System.nanoTime() - start) / 1e9, data.size(), java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() / 1e9);
            }
            ArrayBlockingQueue<ByteBuffer> pool = new ArrayBlockingQueue<>(buffers);
            for (int i = 0; i < buffers; i++) {
                pool.add(ByteBuffer.allocateDirect(requestSize));
            }
            AtomicLong bytes = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            for (int pass = 0; pass < passes; pass++) {
            int requests = 0;
            for (Extent e : data) {
                for (long at = e.offset(); at < e.end(); at += requestSize) {
                    requests++;
                }
            }
            CountDownLatch done = new CountDownLatch(requests);
            for (Extent e : data) {
                for (long at = e.offset(); at < e.end() && failure.get() == null; at += requestSize) {
                    int n = (int) Math.min(requestSize, e.end() - at);
                    ByteBuffer b = pool.take();
                    b.clear().limit(n);
                    client.readAsync(at, b).whenComplete((v, err) -> {
                        if (err != null) {
                            failure.compareAndSet(null, err);
                        } else {
                            bytes.addAndGet(b.remaining());
                        }
                        pool.add(b);
                        done.countDown();
                    });
                }
            }
            if (failure.get() == null) {
                done.await();
            }
            if (failure.get() != null) {
                System.err.println("read failed: " + failure.get());
                System.exit(1);
            }
            double secs = (System.nanoTime() - start) / 1e9;
            System.out.printf("read %d bytes of data (%d requests, %d connections) in %.2f s: %.0f MiB/s%n",
                    bytes.get(), requests, client.connectionCount(), secs, bytes.get() / secs / (1 << 20));
            }
            if (verbose) {
                threadTimes();
            }
        }
        if (Boolean.getBoolean("bench.verbose")) {
            System.err.printf("closed after %.3f s%n", (System.nanoTime() - start) / 1e9);
            threadTimes();
        }
    }

    private static void threadTimes() {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        for (java.lang.management.ThreadInfo t : mx.dumpAllThreads(false, false)) {
            System.err.printf("  thread %-30s cpu %.3f s user %.3f s%n", t.getThreadName(),
                mx.getThreadCpuTime(t.getThreadId()) / 1e9, mx.getThreadUserTime(t.getThreadId()) / 1e9);
        }
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        System.err.printf("  process cpu %.3f s%n", os.getProcessCpuTime() / 1e9);
    }
}
