package dev.coldcopy.repository.verify;

import dev.coldcopy.repository.ChunkAddress;
import dev.coldcopy.repository.ChunkCorruptException;
import dev.coldcopy.repository.ExtentMap;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.SnapshotManifest;
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
 * decrypts, decompresses, hashes to its address and has the length the manifest expects.
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

    /** @param snapshot one snapshot, or empty for all snapshots of the repository */
    public VerifyResult verify(Optional<SnapshotId> snapshot) throws IOException {
        List<VerifyResult.Problem> problems = Collections.synchronizedList(new ArrayList<>());
        List<SnapshotManifest> manifests = new ArrayList<>();
        if (snapshot.isPresent()) {
            manifests.add(repository.load(snapshot.get()));
        } else {
            // ids come from the keys: a damaged manifest is reported, not fatal
            for (SnapshotId id : repository.snapshotIds()) {
                try {
                    manifests.add(repository.load(id));
                } catch (ChunkCorruptException e) {
                    problems.add(new VerifyResult.Problem(e.objectName(), e.getMessage().substring(e.objectName().length() + 2), List.of(id.value())));
                }
            }
        }
        Map<ChunkAddress, Integer> lengths = new LinkedHashMap<>();
        Map<ChunkAddress, List<String>> users = new LinkedHashMap<>();
        for (SnapshotManifest m : manifests) {
            for (ExtentMap.ChunkRef r : m.extents().chunks()) {
                lengths.putIfAbsent(r.address(), r.length());
                users.computeIfAbsent(r.address(), a -> new ArrayList<>()).add(m.id().value());
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
                        String reason = ex.getMessage().substring(ex.objectName().length() + 2);
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
            return new VerifyResult(manifests.size(), lengths.size(), sorted);
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
        return new VerifyResult(manifests.size(), lengths.size(), sorted, unused, unusedBytes);
    }
}
