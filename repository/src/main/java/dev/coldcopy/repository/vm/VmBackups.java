package dev.coldcopy.repository.vm;

import dev.coldcopy.repository.ChunkCorruptException;
import dev.coldcopy.repository.ObjectNotFoundException;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryException;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.lock.LockMode;
import dev.coldcopy.repository.lock.RepositoryLock;
import dev.coldcopy.repository.lock.RepositoryLocks;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The VM backups of a repository: records under {@code vms/VM/ID} (VM URL-encoded as in snapshot keys),
 * sealed by the chunk codec like manifests (encrypted and authenticated when the repository is), and
 * the host files they name, read back chunk by chunk with every chunk and the whole file checked.
 */
public final class VmBackups {
    private static final Comparator<VmBackup> OLDEST_FIRST = Comparator.comparing(VmBackup::created).thenComparing(VmBackup::id);

    private final Repository repository;

    public VmBackups(Repository repository) {
        this.repository = repository;
    }

    /** A VM backup as its key names it: no record read. */
    public record Ref(String vm, SnapshotId id) {
        public String key() {
            return VmBackups.key(vm, id);
        }
    }

    /**
     * Starts a VM backup: takes the repository's shared lock (waiting while a prune runs), held until
     * the writer commits or closes.
     *
     * @param eventId the stop event it answers, or null
     */
    public VmBackupWriter newBackup(String vm, String eventId) throws IOException {
        if (vm == null || vm.isBlank() || vm.length() > VmBackup.MAX_NAME) {
            throw new IllegalArgumentException("a VM backup needs the VM's name (1 to " + VmBackup.MAX_NAME + " characters)");
        }
        if (eventId != null && eventId.length() > VmBackup.MAX_NAME) {
            throw new IllegalArgumentException("VM " + vm + ": event id longer than " + VmBackup.MAX_NAME + " characters");
        }
        RepositoryLocks locks = repository.locks();
        RepositoryLock lock = locks.acquire(LockMode.SHARED, "backup of VM " + vm, locks.timings().backupWait());
        return new VmBackupWriter(repository, lock, vm, eventId, Instant.now());
    }

    /** every VM backup (of one VM) from the keys, oldest id first; nothing is read */
    public List<Ref> refs(Optional<String> vm) throws IOException {
        String prefix = Repository.VMS + vm.map(v -> Repository.encode(v) + "/").orElse("");
        List<Ref> refs = new ArrayList<>();
        for (String key : repository.backend().list(prefix)) {
            String[] parts = key.split("/");
            if (parts.length == 3 && SnapshotId.isValid(parts[2])) {
                refs.add(new Ref(Repository.decode(parts[1]), SnapshotId.parse(parts[2])));
            }
        }
        refs.sort(Comparator.comparing(Ref::id));
        return refs;
    }

    /**
     * Every VM backup (of one VM), oldest first, read in parallel. A damaged record fails the listing
     * (naming it): what it protects is unknown, so nothing may be decided without it.
     */
    public List<VmBackup> list(Optional<String> vm) throws IOException {
        List<Ref> refs = refs(vm);
        List<VmBackup> out = new ArrayList<>();
        if (refs.isEmpty()) {
            return out;
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(2, repository.options().parallelism() * 2), r -> {
            Thread t = new Thread(r, "coldcopy-vm-list");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<VmBackup>> reads = new ArrayList<>();
            for (Ref ref : refs) {
                reads.add(pool.submit(() -> load(ref)));
            }
            for (Future<VmBackup> f : reads) {
                out.add(f.get());
            }
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new RepositoryException(String.valueOf(e.getCause()), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while listing VM backups");
        } finally {
            pool.shutdownNow();
        }
        out.sort(OLDEST_FIRST);
        return out;
    }

    /**
     * @throws VmBackupNotFoundException when the VM has no backup of that id
     * @throws ChunkCorruptException     when its record is damaged, truncated or not this backup's
     */
    public VmBackup load(String vm, SnapshotId id) throws IOException {
        return load(new Ref(vm, id));
    }

    public VmBackup load(Ref ref) throws IOException {
        String key = ref.key();
        String name = recordName(key);
        byte[] json;
        try {
            json = repository.getRecord(key, name);
        } catch (ObjectNotFoundException e) {
            throw new VmBackupNotFoundException(key, "no VM backup " + ref.id() + " of VM " + ref.vm() + " in " + repository.uri());
        }
        VmBackup b = VmBackupCodec.decode(name, json);
        if (!b.id().equals(ref.id()) || !b.vm().equals(ref.vm())) {
            throw new ChunkCorruptException(name, "holds VM backup " + b.id() + " of " + b.vm() + ", not " + ref.id() + " of " + ref.vm());
        }
        return b;
    }

    /**
     * The VM's newest backup, if it has one: one listing of the VM's records and one record read. A
     * redelivered event finds there the VM backup it already recorded.
     */
    public Optional<VmBackup> latest(String vm) throws IOException {
        List<Ref> refs = refs(Optional.of(vm));
        return refs.isEmpty() ? Optional.empty() : Optional.of(load(refs.get(refs.size() - 1)));
    }

    /** the VM backup of that id, whichever VM it belongs to */
    public Optional<VmBackup> find(SnapshotId id) throws IOException {
        for (Ref ref : refs(Optional.empty())) {
            if (ref.id().equals(id)) {
                return Optional.of(load(ref));
            }
        }
        return Optional.empty();
    }

    /**
     * Writes a host file's content to {@code out}, chunk by chunk, each checked (present, intact, hashes
     * to its address, the length the record says), then the whole file against its SHA-256. On an
     * exception what was written is incomplete or wrong: discard it.
     *
     * @throws ChunkCorruptException naming the chunk and the file when anything does not match
     */
    public void readFile(HostFile file, OutputStream out) throws IOException {
        String what = "the " + file.role() + " file " + file.path();
        MessageDigest sha256 = sha256();
        long size = 0;
        for (FileChunk c : file.chunks()) {
            byte[] plain;
            try {
                plain = repository.readChunk(c.address());
            } catch (ChunkCorruptException e) {
                throw new ChunkCorruptException(e.objectName(), reason(e) + " (part of " + what + ")");
            }
            if (plain.length != c.length()) {
                throw new ChunkCorruptException("chunk " + c.address().hex(), "holds " + plain.length + " bytes, "
                        + what + " expects " + c.length());
            }
            sha256.update(plain);
            out.write(plain);
            size += plain.length;
        }
        String actual = HexFormat.of().formatHex(sha256.digest());
        if (size != file.size() || !actual.equals(file.sha256())) {
            throw new ChunkCorruptException(what, "read back as " + size + " bytes with SHA-256 " + actual
                    + ", the backup recorded " + file.size() + " bytes with SHA-256 " + file.sha256());
        }
    }

    /** the whole content of a (small) host file, checked as by {@link #readFile(HostFile, OutputStream)} */
    public byte[] readFile(HostFile file) throws IOException {
        if (file.size() > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("the " + file.role() + " file " + file.path() + " (" + file.size()
                    + " bytes) is too large for one array: read it into a stream");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) file.size());
        readFile(file, out);
        return out.toByteArray();
    }

    /**
     * Removes a VM backup's record. Its snapshots and file chunks stay: snapshots go by their own rules,
     * and a prune collects the chunks nothing uses any more.
     */
    public void delete(VmBackup backup) throws IOException {
        repository.backend().delete(key(backup.vm(), backup.id()));
    }

    /** the key of a VM backup's record */
    public static String key(String vm, SnapshotId id) {
        return Repository.VMS + Repository.encode(vm) + "/" + id.value();
    }

    /** what the record is bound to when sealed, and called in messages: {@code vm backup vms/VM/ID} */
    public static String recordName(String key) {
        return "vm backup " + key;
    }

    private static String reason(ChunkCorruptException e) {
        String m = e.getMessage();
        return m.startsWith(e.objectName() + ": ") ? m.substring(e.objectName().length() + 2) : m;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
