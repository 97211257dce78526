package dev.coldcopy.repository;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The binary form of a manifest (before the chunk envelope compresses and maybe encrypts it):
 *
 * <pre>
 * "CCMF" magic, u16 format version (1), u16 reserved
 * u32 length, the header as compact JSON (readable, extensible: unknown fields are ignored)
 * u32 chunk count, then per chunk: 32-byte address, u32 plaintext length
 * u32 extent count, then per extent (varints): gap from the previous extent's end, length,
 *     chunk index + 1 (0 = ZERO extent), and for DATA the offset into the chunk
 * </pre>
 *
 * A 1 TiB disk of 4 MiB chunks is 262144 extents and chunks, about 10 MiB, coded in tens of milliseconds.
 */
public final class ManifestCodec {
    public static final int MAGIC = 0x43434D46; // "CCMF"
    public static final int VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);

    private ManifestCodec() {
    }

    /** the manifest header as stored (JSON) */
    public static final class Header {
        public int format = VERSION;
        public String id;
        public String vm;
        public String disk;
        public String sourceImage;
        public long virtualSize;
        public String kind;
        public String reason;
        public String checkpointUsed;
        public String checkpointCreated;
        public String parent;
        public String created;
        public int chunkSize;
        public BackupStatistics statistics;
        /** absent in manifests written before event ids were recorded */
        public String eventId;
    }

    public static byte[] encode(SnapshotManifest m) {
        Header h = new Header();
        h.id = m.id().value();
        h.vm = m.vm();
        h.disk = m.disk();
        h.sourceImage = m.header().sourceImage();
        h.virtualSize = m.virtualSize();
        h.kind = m.kind().name();
        h.reason = m.header().reason();
        h.checkpointUsed = m.header().checkpointUsed();
        h.checkpointCreated = m.header().checkpointCreated();
        h.parent = m.parent().map(SnapshotId::value).orElse(null);
        h.created = m.created().toString();
        h.chunkSize = m.chunkSize();
        h.statistics = m.statistics();
        h.eventId = m.header().eventId();
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(h);
        } catch (IOException e) {
            throw new IllegalStateException("manifest header does not serialise", e);
        }
        ExtentMap map = m.extents();
        List<ExtentMap.ChunkRef> chunks = map.chunks();
        int n = map.size();
        ByteBuffer out = ByteBuffer.allocate(8 + 4 + json.length + 4 + chunks.size() * 36 + 4 + n * 30);
        out.putInt(MAGIC).putShort((short) VERSION).putShort((short) 0);
        out.putInt(json.length).put(json);
        out.putInt(chunks.size());
        for (ExtentMap.ChunkRef c : chunks) {
            out.put(c.address().rawBytes()).putInt(c.length());
        }
        out.putInt(n);
        long prevEnd = 0;
        for (int i = 0; i < n; i++) {
            long start = map.start(i);
            long length = map.length(i);
            putVarint(out, start - prevEnd);
            putVarint(out, length);
            int c = map.chunkIndex(i);
            putVarint(out, c + 1L);
            if (c >= 0) {
                putVarint(out, map.chunkOffset(i));
            }
            prevEnd = start + length;
        }
        byte[] result = new byte[out.position()];
        out.flip().get(result);
        return result;
    }

    public static SnapshotManifest decode(String name, byte[] data) throws ChunkCorruptException {
        try {
            ByteBuffer in = ByteBuffer.wrap(data);
            if (in.getInt() != MAGIC) {
                throw new ChunkCorruptException(name, "not a coldcopy manifest (bad magic)");
            }
            int version = in.getShort() & 0xffff;
            in.getShort();
            if (version != VERSION) {
                throw new ChunkCorruptException(name, "manifest format version " + version + " is not supported by this coldcopy (it reads version " + VERSION + ")");
            }
            int jsonLength = in.getInt();
            Header h = JSON.readValue(data, in.position(), jsonLength, Header.class);
            in.position(in.position() + jsonLength);
            int chunkCount = in.getInt();
            List<ExtentMap.ChunkRef> chunks = new ArrayList<>(chunkCount);
            for (int i = 0; i < chunkCount; i++) {
                byte[] a = new byte[ChunkAddress.LENGTH];
                in.get(a);
                chunks.add(new ExtentMap.ChunkRef(ChunkAddress.wrap(a), in.getInt()));
            }
            int n = in.getInt();
            long[] starts = new long[n];
            long[] lengths = new long[n];
            int[] chunkIndex = new int[n];
            int[] offsets = new int[n];
            long prevEnd = 0;
            for (int i = 0; i < n; i++) {
                long start = prevEnd + getVarint(in);
                long length = getVarint(in);
                int c = (int) getVarint(in) - 1;
                if (c >= chunkCount || length <= 0) {
                    throw new ChunkCorruptException(name, "extent " + i + " is malformed");
                }
                starts[i] = start;
                lengths[i] = length;
                chunkIndex[i] = c;
                if (c >= 0) {
                    long chunkOffset = getVarint(in);
                    // packed chunks hold several extents: each must lie wholly inside its chunk
                    long chunkLength = chunks.get(c).length();
                    if (chunkOffset < 0 || length > chunkLength || chunkOffset > chunkLength - length) {
                        throw new ChunkCorruptException(name, "extent " + i + " reads past its chunk");
                    }
                    offsets[i] = (int) chunkOffset;
                }
                prevEnd = start + length;
            }
            ExtentMap map = new ExtentMap(starts, lengths, chunkIndex, offsets, n, chunks);
            SnapshotHeader header = new SnapshotHeader(h.vm, h.disk, h.sourceImage, h.virtualSize, SnapshotKind.valueOf(h.kind),
                    h.reason, h.checkpointUsed, h.checkpointCreated, h.eventId);
            return new SnapshotManifest(SnapshotId.parse(h.id), header, Optional.ofNullable(h.parent).map(SnapshotId::parse),
                    Instant.parse(h.created), h.chunkSize, h.statistics == null ? BackupStatistics.none() : h.statistics, map);
        } catch (ChunkCorruptException e) {
            throw e;
        } catch (BufferUnderflowException e) {
            throw new ChunkCorruptException(name, "manifest is truncated");
        } catch (IOException | RuntimeException e) {
            throw new ChunkCorruptException(name, "manifest does not parse: " + String.valueOf(e.getMessage()).replace('\n', ' '));
        }
    }

    private static void putVarint(ByteBuffer out, long v) {
        while ((v & ~0x7FL) != 0) {
            out.put((byte) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.put((byte) v);
    }

    private static long getVarint(ByteBuffer in) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            byte b = in.get();
            v |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
        }
        throw new IllegalArgumentException("varint too long");
    }
}
