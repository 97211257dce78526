package dev.coldcopy.repository.vm;

import dev.coldcopy.repository.ChunkAddress;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryException;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.lock.RepositoryLock;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * Writes one {@link VmBackup}. Holds the repository's SHARED backup lock from creation to commit or
 * close (as a snapshot writer does), so no prune can collect the file chunks in between. Files are
 * stored first, each as chunks of the repository's chunk size; the record, written last by
 * {@link #commit}, is the commit point: closed without a commit, nothing names the chunks and a prune
 * collects them. Thread-safe (synchronized).
 */
public final class VmBackupWriter implements AutoCloseable {
    private final Repository repository;
    private final RepositoryLock lock;
    private final SnapshotId id;
    private final String vm;
    private final String eventId;
    private final Instant created;
    /** chunks this backup has stored or found intact already (per backup, like a snapshot writer's) */
    private final Set<ChunkAddress> known = new HashSet<>();
    private final List<HostFile> stored = new ArrayList<>();
    private long chunksNew;
    private long chunksReused;
    private long bytesNew;
    private long bytesStored;
    private boolean finished;

    /**
     * What storing the files cost so far.
     *
     * @param chunksNew    chunks uploaded
     * @param chunksReused chunks the repository had already (not uploaded again)
     * @param bytesNew     plaintext bytes of the new chunks
     * @param bytesStored  bytes written for them (compressed, with headers)
     */
    public record Statistics(long chunksNew, long chunksReused, long bytesNew, long bytesStored) {
    }

    VmBackupWriter(Repository repository, RepositoryLock lock, String vm, String eventId, Instant created) {
        this.repository = repository;
        this.lock = lock;
        this.vm = vm;
        this.eventId = eventId;
        this.created = created;
        this.id = SnapshotId.create(created);
    }

    public SnapshotId id() {
        return id;
    }

    public String vm() {
        return vm;
    }

    /**
     * Stores a host file's content as chunks; they are durable before this returns. The stream is read
     * to its end, not closed.
     *
     * @param role     one of {@link HostFile#ROLES}
     * @param hostPath where the file is on the host ({@link HostFile#DOMAIN_XML_PATH} for the domain XML)
     */
    public synchronized HostFile storeFile(String role, String hostPath, InputStream data) throws IOException {
        checkOpen();
        HostFile.checkRole(role);
        if (hostPath == null || hostPath.isBlank() || hostPath.length() > HostFile.MAX_PATH) {
            throw new IllegalArgumentException("the " + role + " file needs the path it had on the host (1 to " + HostFile.MAX_PATH + " characters)");
        }
        MessageDigest sha256 = sha256();
        byte[] buffer = new byte[repository.chunkSize()];
        List<FileChunk> chunks = new ArrayList<>();
        long size = 0;
        while (true) {
            int n;
            try {
                n = data.readNBytes(buffer, 0, buffer.length);
            } catch (IOException e) {
                throw new IOException("reading the " + role + " file " + hostPath + " failed: " + e.getMessage(), e);
            }
            if (n == 0) {
                break;
            }
            sha256.update(buffer, 0, n);
            Repository.StoredChunk c = repository.storeChunk(buffer, n, known);
            if (c.isNew()) {
                chunksNew++;
                bytesNew += c.length();
                bytesStored += c.storedLength();
            } else {
                chunksReused++;
            }
            chunks.add(new FileChunk(c.address(), n));
            size += n;
            if (n < buffer.length) {
                break;
            }
        }
        repository.backend().flush();
        HostFile file = new HostFile(role, hostPath, size, HexFormat.of().formatHex(sha256.digest()), chunks);
        stored.add(file);
        return file;
    }

    public HostFile storeFile(String role, String hostPath, byte[] data) throws IOException {
        return storeFile(role, hostPath, new ByteArrayInputStream(data));
    }

    /**
     * Writes the record, last: from then on the backup exists. Every file must have been stored by this
     * writer, and every snapshot listed must be in the repository (committed before, under the VM's
     * name and the disk's target). Input that breaks a rule is refused before anything is written, and
     * the writer stays open; once the record is written, or writing it failed, the lock is released.
     *
     * @throws IllegalArgumentException naming the rule broken
     */
    public synchronized SnapshotId commit(List<VmDisk> disks, List<HostFile> files, List<String> notes) throws IOException {
        checkOpen();
        VmBackup backup = new VmBackup(id, vm, eventId, created, disks, files, notes);
        for (HostFile f : backup.files()) {
            if (!stored.contains(f)) {
                throw new IllegalArgumentException(backup + ": the " + f.role() + " file " + f.path()
                        + " was not stored by this backup (store it with storeFile first)");
            }
        }
        for (VmDisk d : backup.disks()) {
            if (d.hasSnapshot() && !repository.backend().exists(Repository.manifestKey(vm, d.target(), d.snapshot()))) {
                throw new IllegalArgumentException(backup + ": disk " + d.target() + " names snapshot " + d.snapshot()
                        + ", which is not in " + repository.uri() + " as a snapshot of " + vm + "/" + d.target());
            }
        }
        try {
            lock.confirm(); // no prune took our lock for stale: every chunk and snapshot named is still there
            String key = VmBackups.key(vm, id);
            repository.putRecord(key, VmBackups.recordName(key), VmBackupCodec.encode(backup));
            return id;
        } catch (RepositoryException e) {
            throw e;
        } catch (IOException e) {
            throw new RepositoryException(backup + " cannot be committed: " + e.getMessage(), e);
        } finally {
            finish();
        }
    }

    public synchronized Statistics statistics() {
        return new Statistics(chunksNew, chunksReused, bytesNew, bytesStored);
    }

    /** Releases the lock. Without a commit nothing is written: the chunks stored are left for a prune. */
    @Override
    public synchronized void close() {
        finish();
    }

    private void finish() {
        if (!finished) {
            finished = true;
            lock.close();
        }
    }

    private void checkOpen() {
        if (finished) {
            throw new IllegalStateException("VM backup " + id + " of " + vm + " is already committed or closed");
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
