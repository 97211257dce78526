package dev.coldcopy.backup;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One backup per disk at a time, different disks in parallel. Keyed by the top image's file identity (device
 * and inode), so two hard links to one image are one disk; by its path when the file system has no such
 * identity or the image cannot be read. Two levels: a per-disk semaphore inside this JVM (not reentrant: a
 * second request from the same thread is refused too), and, when a lock directory is given, an OS file lock there so a CLI backup and the service
 * on the same host exclude each other as well. A request waits up to its timeout, then gets a
 * {@link DiskBusyException} saying who holds the disk.
 */
public final class DiskLocks {

    private record Holder(Semaphore semaphore, Map<String, String> info) {
    }

    private static final Map<String, Holder> IN_PROCESS = new ConcurrentHashMap<>();

    private final Path lockDir;

    /** @param lockDir where lock files go; null: this JVM only */
    public DiskLocks(Path lockDir) {
        this.lockDir = lockDir;
    }

    /** Locks within this JVM only. */
    public static DiskLock acquire(Path image, Duration timeout) {
        return new DiskLocks(null).lock(image, timeout);
    }

    public DiskLock lock(Path image, Duration timeout) {
        Path key = image.toAbsolutePath().normalize();
        String identity = identity(key);
        Holder holder = IN_PROCESS.computeIfAbsent(identity, k -> new Holder(new Semaphore(1), new ConcurrentHashMap<>()));
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            if (!holder.semaphore().tryAcquire(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                throw new DiskBusyException("disk " + key + " is busy: another backup of it has been running in this process since "
                        + holder.info().getOrDefault("since", "?") + " (waited " + timeout.toMillis() + " ms)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DiskBusyException("interrupted while waiting for disk " + key);
        }
        holder.info().put("since", Instant.now().toString());
        if (lockDir == null) {
            return new Held(key, holder, null, null);
        }
        FileChannel channel = null;
        try {
            Files.createDirectories(lockDir);
            Path file = lockDir.resolve(hash(identity) + ".lock");
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
            while (true) {
                FileLock fileLock = channel.tryLock();
                if (fileLock != null) {
                    channel.truncate(0);
                    channel.write(java.nio.ByteBuffer.wrap((ProcessHandle.current().pid() + " " + Instant.now() + " " + key + "\n")
                            .getBytes(StandardCharsets.UTF_8)), 0);
                    return new Held(key, holder, channel, fileLock);
                }
                if (System.nanoTime() > deadline) {
                    String who = Files.readString(file).trim();
                    throw new DiskBusyException("disk " + key + " is busy: another coldcopy process is backing it up ("
                            + (who.isEmpty() ? "unknown" : "pid " + who.split(" ")[0] + " since " + who.split(" ")[1])
                            + "; waited " + timeout.toMillis() + " ms)");
                }
                Thread.sleep(50);
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            closeQuietly(channel);
            holder.semaphore().release();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
                throw new DiskBusyException("interrupted while waiting for disk " + key);
            }
            if (e instanceof RuntimeException re) {
                throw re;
            }
            throw new DiskBusyException("cannot lock disk " + key + ": " + e.getMessage());
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing releases the lock anyway
            }
        }
    }

    /** Device and inode as the JDK reports them ("(dev=..,ino=..)"), else the path. */
    static String identity(Path image) {
        try {
            Object fileKey = Files.readAttributes(image, BasicFileAttributes.class).fileKey();
            if (fileKey != null) {
                return "file " + fileKey;
            }
        } catch (IOException | SecurityException e) {
            // not readable: the path is all there is to go by (the backup will fail on it anyway)
        }
        return "path " + image;
    }

    private static String hash(String identity) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(identity.getBytes(StandardCharsets.UTF_8)), 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final class Held implements DiskLock {
        private final Path image;
        private final Holder holder;
        private final FileChannel channel;
        private final FileLock fileLock;
        private final AtomicBoolean released = new AtomicBoolean();

        Held(Path image, Holder holder, FileChannel channel, FileLock fileLock) {
            this.image = image;
            this.holder = holder;
            this.channel = channel;
            this.fileLock = fileLock;
        }

        @Override
        public Path image() {
            return image;
        }

        @Override
        public void close() {
            if (!released.compareAndSet(false, true)) {
                return;
            }
            try {
                if (fileLock != null) {
                    fileLock.release();
                }
            } catch (IOException ignored) {
                // closing the channel releases it
            } finally {
                closeQuietly(channel);
                holder.info().remove("since");
                holder.semaphore().release();
            }
        }
    }
}
