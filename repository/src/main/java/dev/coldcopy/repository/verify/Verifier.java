package dev.coldcopy.repository.verify;

import dev.coldcopy.repository.ChunkAddress;
import dev.coldcopy.repository.ChunkCorruptException;
import dev.coldcopy.repository.ExtentMap;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.repository.vm.FileChunk;
import dev.coldcopy.repository.vm.HostFile;
import dev.coldcopy.repository.vm.VmBackup;
import dev.coldcopy.repository.vm.VmBackups;
import dev.coldcopy.repository.vm.VmDisk;
import java.util.HashSet;
import java.util.Set;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Checks that every chunk a snapshot (or every snapshot) references exists, passes its checksum,
 * decrypts, decompresses, hashes to its address and has the length the manifest expects; and every VM
 * backup: its record decodes, the chunks of its host files pass the same checks, and every snapshot it
 * lists exists.
 * Each distinct chunk is read once; chunks are checked in parallel.
 *
 * <p>A chunk whose stored bytes are damaged is moved into the repository's quarantine (unless asked not
 * to): deduplication then no longer finds it, so the next backup of the same data stores it afresh and
 * the snapshots that use it restore again. Missing or unreadable chunks are only reported.
 */
public final class Verifier {
    private final Repository repository;
    private final int parallelism;
    private final boolean quarantine;

    public Verifier(Repository repository) {
        this(repository, true);
    }

    /** @param quarantine whether to move damaged chunks out of the way (false: only report) */
    public Verifier(Repository repository, boolean quarantine) {
        this.repository = repository;
        this.parallelism = repository.options().parallelism();
        this.quarantine = quarantine;
    }

    /**
     * @param snapshot one snapshot or VM backup (then its files and every snapshot it lists), or empty
     *                 for everything in the repository
     */
    public VerifyResult verify(Optional<SnapshotId> snapshot) throws IOException {
        List<VerifyResult.Problem> problems = Collections.synchronizedList(new ArrayList<>());
        List<SnapshotManifest> manifests = new ArrayList<>();
        List<VmBackup> vmBackups = new ArrayList<>();
        VmBackups vms = repository.vmBackups();
        Set<String> manifestKeys = new HashSet<>(repository.manifestKeys());
        if (snapshot.isPresent()) {
            Optional<VmBackup> vmBackup = repository.snapshotIds().contains(snapshot.get()) ? Optional.empty() : vms.find(snapshot.get());
            if (vmBackup.isPresent()) {
                // a VM backup: its files and every snapshot it lists
                vmBackups.add(vmBackup.get());
                for (VmDisk d : vmBackup.get().disks()) {
                    String key = d.hasSnapshot() ? Repository.manifestKey(vmBackup.get().vm(), d.target(), d.snapshot()) : null;
                    if (key != null && manifestKeys.contains(key)) {
                        loadReporting(key, d.snapshot(), manifests, problems);
                    }
                }
            } else {
                manifests.add(repository.load(snapshot.get()));
            }
        } else {
            // ids come from the keys: a damaged manifest or record is reported, not fatal
            for (SnapshotId id : repository.snapshotIds()) {
                try {
                    manifests.add(repository.load(id));
                } catch (ChunkCorruptException e) {
                    problems.add(new VerifyResult.Problem(e.objectName(), reason(e), List.of(id.value())));
                }
            }
            for (VmBackups.Ref ref : vms.refs(Optional.empty())) {
                try {
                    vmBackups.add(vms.load(ref));
                } catch (ChunkCorruptException e) {
                    problems.add(new VerifyResult.Problem(e.objectName(), reason(e), List.of(ref.id().value())));
                }
            }
        }
        Map<ChunkAddress, Integer> lengths = new LinkedHashMap<>();
        Map<ChunkAddress, List<String>> users = new LinkedHashMap<>();
        for (SnapshotManifest m : manifests) {
            for (ExtentMap.ChunkRef r : m.extents().chunks()) {
                use(lengths, users, r.address(), r.length(), m.id().value());
            }
        }
        for (VmBackup b : vmBackups) {
            for (VmDisk d : b.disks()) {
                if (d.hasSnapshot() && !manifestKeys.contains(Repository.manifestKey(b.vm(), d.target(), d.snapshot()))) {
                    problems.add(new VerifyResult.Problem(VmBackups.recordName(VmBackups.key(b.vm(), b.id())),
                            "disk " + d.target() + ": its snapshot " + d.snapshot() + " is missing", List.of(b.id().value())));
                }
            }
            for (HostFile f : b.files()) {
                for (FileChunk c : f.chunks()) {
                    use(lengths, users, c.address(), c.length(), b.id().value());
                }
            }
        }
        ExecutorService pool = Executors.newFixedThreadPool(parallelism, r -> {
            Thread t = new Thread(r, "coldcopy-verify");
            t.setDaemon(true);
            return t;
        });
        Semaphore inFlight = new Semaphore(parallelism * 2);
        try {
            for (Map.Entry<ChunkAddress, Integer> e : lengths.entrySet()) {
                inFlight.acquire();
                pool.execute(() -> {
                    ChunkAddress a = e.getKey();
                    try {
                        byte[] plain = repository.readChunk(a);
                        if (plain.length != e.getValue()) {
                            problems.add(new VerifyResult.Problem("chunk " + a.hex(), "holds " + plain.length + " bytes, manifests expect " + e.getValue(), users.get(a)));
                        }
                    } catch (ChunkCorruptException ex) {
                        String reason = reason(ex);
                        String movedTo = null;
                        if (quarantine) {
                            try {
                                movedTo = repository.quarantine(a, reason).orElse(null); // empty: it is missing
                            } catch (IOException | RuntimeException qe) {
                                reason += "; could not be moved to quarantine: " + qe.getMessage();
                            }
                        }
                        problems.add(new VerifyResult.Problem("chunk " + a.hex(), reason, users.get(a), movedTo));
                    } catch (IOException | RuntimeException ex) {
                        problems.add(new VerifyResult.Problem("chunk " + a.hex(), "cannot be read: " + ex.getMessage(), users.get(a)));
                    } finally {
                        inFlight.release();
                    }
                });
            }
            pool.shutdown();
            pool.awaitTermination(12, TimeUnit.HOURS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("verify interrupted");
        } finally {
            pool.shutdownNow();
        }
        List<VerifyResult.Problem> sorted = new ArrayList<>(problems);
        sorted.sort((x, y) -> x.object().compareTo(y.object()));
        if (snapshot.isPresent()) {
            return new VerifyResult(manifests.size(), lengths.size(), sorted, -1, 0, vmBackups.size());
        }
        long unused = 0;
        long unusedBytes = 0;
        for (Map.Entry<String, Long> e : repository.backend().listSizes(ChunkAddress.PREFIX).entrySet()) {
            ChunkAddress a = ChunkAddress.fromKey(e.getKey());
            if (a != null && !lengths.containsKey(a)) {
                unused++;
                unusedBytes += e.getValue();
            }
        }
        return new VerifyResult(manifests.size(), lengths.size(), sorted, unused, unusedBytes, vmBackups.size());
    }

    private void loadReporting(String key, SnapshotId id, List<SnapshotManifest> manifests, List<VerifyResult.Problem> problems)
            throws IOException {
        try {
            manifests.add(repository.loadManifestKey(key));
        } catch (ChunkCorruptException e) {
            problems.add(new VerifyResult.Problem(e.objectName(), reason(e), List.of(id.value())));
        }
    }

    private static void use(Map<ChunkAddress, Integer> lengths, Map<ChunkAddress, List<String>> users, ChunkAddress a, int length, String user) {
        lengths.putIfAbsent(a, length);
        List<String> u = users.computeIfAbsent(a, k -> new ArrayList<>());
        if (!u.contains(user)) {
            u.add(user);
        }
    }

    private static String reason(ChunkCorruptException e) {
        return e.getMessage().substring(e.objectName().length() + 2);
    }
}
