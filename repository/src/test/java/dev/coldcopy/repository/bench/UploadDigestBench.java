package dev.coldcopy.repository.bench;

import com.github.luben.zstd.Zstd;
import java.security.MessageDigest;
import java.util.Random;

/**
 * What checking each S3 upload costs (bench/RESULTS.md, "Per-object verification on S3"): the MD5 of
 * every stored object (sent as Content-MD5 and compared with the ETag) set against the work each chunk
 * already costs (SHA-256 address, zstd level 1). All in memory, over the same 4 MiB chunks: the MD5 is
 * of the bytes about to be sent, so there is no second read of any data.
 * <pre>java -cp ... dev.coldcopy.repository.bench.UploadDigestBench [MiB]</pre>
 */
public final class UploadDigestBench {
    private static final int CHUNK = 4 * 1024 * 1024;

    public static void main(String[] args) throws Exception {
        int mib = args.length > 0 ? Integer.parseInt(args[0]) : 1024;
        int chunks = mib / 4;
        byte[][] data = new byte[8][];
        Random r = new Random(1);
        for (int i = 0; i < data.length; i++) {
            data[i] = new byte[CHUNK];
            // half random, half text-like: compresses about 2:1 like a mixed disk
            r.nextBytes(data[i]);
            for (int j = CHUNK / 2; j < CHUNK; j++) {
                data[i][j] = (byte) ('a' + r.nextInt(16));
            }
        }
        for (int round = 0; round < 2; round++) { // the first round warms the JIT up
            double md5 = time(chunks, data, "MD5");
            double sha = time(chunks, data, "SHA-256");
            long t = System.nanoTime();
            long out = 0;
            for (int i = 0; i < chunks; i++) {
                out += Zstd.compress(data[i % data.length], 1).length;
            }
            double zstd = (System.nanoTime() - t) / 1e9;
            if (round == 1) {
                System.out.printf("%d MiB in 4 MiB chunks: MD5 %.2f s (%.0f MiB/s, %.2f ms/chunk), SHA-256 %.2f s (%.0f MiB/s), zstd-1 %.2f s (%.0f MiB/s, out %d MiB)%n",
                        mib, md5, mib / md5, md5 * 1000 / chunks, sha, mib / sha, zstd, mib / zstd, out >> 20);
                System.out.printf("MD5 / (SHA-256 + zstd-1) = %.2f%n", md5 / (sha + zstd));
            }
        }
    }

    private static double time(int chunks, byte[][] data, String algorithm) throws Exception {
        MessageDigest md = MessageDigest.getInstance(algorithm);
        long t = System.nanoTime();
        byte x = 0;
        for (int i = 0; i < chunks; i++) {
            x ^= md.digest(data[i % data.length])[0];
        }
        double s = (System.nanoTime() - t) / 1e9;
        if (x == 42) {
            System.out.print("");
        }
        return s;
    }
}
