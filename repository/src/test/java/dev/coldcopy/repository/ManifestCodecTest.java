package dev.coldcopy.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.repository.backend.FileBackend;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.List;
import java.util.Random;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManifestCodecTest {
    private static final long TIB = 1L << 40;
    private static final int CHUNK = 4 << 20;

    @Test
    void oneTebibyteManifestSavesAndLoadsWhole(@TempDir Path dir) throws Exception {
        // 262144 extents of 4 MiB, each its own chunk: a fully written 1 TiB disk
        Random r = new Random(7);
        int n = (int) (TIB / CHUNK);
        ExtentMap.Builder b = new ExtentMap.Builder(n);
        byte[] a = new byte[32];
        for (int i = 0; i < n; i++) {
            r.nextBytes(a);
            b.addData((long) i * CHUNK, CHUNK, ChunkAddress.of(a), CHUNK, 0);
        }
        ExtentMap map = b.build();
        SnapshotHeader h = new SnapshotHeader("vm1", "vda", "/images/vm1.qcow2", TIB, SnapshotKind.FULL, "first backup", null, "cc-x");
        SnapshotManifest m = new SnapshotManifest(SnapshotId.create(Instant.now()), h, Optional.empty(), Instant.now(), CHUNK,
                BackupStatistics.none(), map);
        try (DefaultCamelContext ctx = new DefaultCamelContext()) {
            ctx.start();
            RepositoryOptions opts = RepositoryOptions.builder().camelContext(ctx).build();
            try (Repository repo = Repository.init(RepositoryUri.file(dir), opts)) {
                // warm up once (class loading, JIT), then measure a save + load through the real file backend
                repo.writeManifest(m);
                repo.load(m.id());
                long t0 = System.nanoTime();
                repo.writeManifest(m);
                long t1 = System.nanoTime();
                SnapshotManifest loaded = repo.load(m.id());
                long t2 = System.nanoTime();
                System.out.printf("manifest of %d extents: %d bytes stored, save %d ms, load %d ms%n", n,
                        ((FileBackend) repo.backend()).root().resolve(Repository.manifestKey(h, m.id())).toFile().length(),
                        (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000);
                // the time is printed, not asserted: speed is a benchmark's business (a loaded CI machine is
                // no measurement); this guards only against something pathological, like per-extent objects
                assertThat((t2 - t0) / 1_000_000).as("save + load milliseconds").isLessThan(15_000);
                assertThat(loaded.extents().size()).isEqualTo(n);
                assertThat(loaded.extents().get(n - 1)).isEqualTo(map.get(n - 1));
                assertThat(loaded.extents().get(12345)).isEqualTo(map.get(12345));
                assertThat(loaded.header()).isEqualTo(h);
            }
        }
    }

    @Test
    void packedChunkExtentsRoundTripAndAnOffsetOutsideTheChunkIsRejected() throws Exception {
        byte[] a = new byte[32];
        a[0] = 1;
        ChunkAddress packed = ChunkAddress.of(a);
        // three disk ranges far apart in one 192 KiB chunk, then a ZERO range
        ExtentMap map = new ExtentMap.Builder()
                .addData(1L << 30, 64 << 10, packed, 192 << 10, 0)
                .addData(5L << 30, 4 << 10, packed, 192 << 10, 64 << 10)
                .addData(3L << 30, 124 << 10, packed, 192 << 10, 68 << 10)
                .addZero(6L << 30, 1 << 20)
                .build();
        SnapshotManifest m = manifest(map);
        SnapshotManifest back = ManifestCodec.decode("m", ManifestCodec.encode(m));
        assertThat(back.extents().extents()).containsExactlyElementsOf(map.extents());
        assertThat(back.extents().chunks()).hasSize(1);
        assertThat(back.extents().extents()).extracting(SnapshotExtent::chunkOffset).containsExactly(0, 68 << 10, 64 << 10, 0);

        // a damaged manifest whose extent would read past its chunk, or from before it
        for (int offset : new int[] {(192 << 10) - 100, -1}) {
            ExtentMap bad = new ExtentMap(new long[] {0}, new long[] {4096}, new int[] {0}, new int[] {offset}, 1,
                    List.of(new ExtentMap.ChunkRef(packed, 192 << 10)));
            assertThatThrownBy(() -> ManifestCodec.decode("manifest x", ManifestCodec.encode(manifest(bad))))
                    .isInstanceOf(ChunkCorruptException.class).hasMessageContaining("reads past its chunk");
        }
    }

    @Test
    void theEventIdTravelsInManifestAndSummaryAndOlderOnesHaveNone() throws Exception {
        ExtentMap map = new ExtentMap.Builder().addZero(0, 1 << 20).build();
        SnapshotHeader withEvent = new SnapshotHeader("vm1", "vda", "/images/vm1.qcow2", TIB, SnapshotKind.FULL, "first", null,
                "cc-x", "evt-42");
        SnapshotManifest m = new SnapshotManifest(SnapshotId.create(Instant.now()), withEvent, Optional.empty(), Instant.now(),
                1 << 20, BackupStatistics.none(), map);
        assertThat(ManifestCodec.decode("m", ManifestCodec.encode(m)).header().eventId()).isEqualTo("evt-42");
        SnapshotSummary summary = SummaryCodec.decode("s", SummaryCodec.encode(m.summary()));
        assertThat(summary.eventId()).isEqualTo("evt-42");
        assertThat(summary).isEqualTo(m.summary());

        // a manifest written before event ids were recorded has no such field at all: it reads as none
        byte[] old = ManifestCodec.encode(manifest(map));
        assertThat(new String(old, java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain("eventId");
        SnapshotManifest back = ManifestCodec.decode("old", old);
        assertThat(back.header().eventId()).isNull();
        assertThat(back.header().answers("evt-42")).isFalse();
        assertThat(SummaryCodec.decode("old summary", "{\"id\":\"%s\",\"vm\":\"vm1\",\"disk\":\"vda\",\"created\":\"%s\",\"kind\":\"FULL\"}"
                .formatted(back.id().value(), back.created()).getBytes(java.nio.charset.StandardCharsets.UTF_8)).eventId()).isNull();

        assertThatThrownBy(() -> new SnapshotHeader("vm1", "vda", "/i", TIB, SnapshotKind.FULL, "", null, null, " "))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("event id");
    }

    private static SnapshotManifest manifest(ExtentMap map) {
        SnapshotHeader h = new SnapshotHeader("vm1", "vda", "/images/vm1.qcow2", TIB, SnapshotKind.FULL, "packed", null, null);
        return new SnapshotManifest(SnapshotId.create(Instant.now()), h, Optional.empty(), Instant.now(), 1 << 20,
                BackupStatistics.none(), map);
    }
}
