package dev.coldcopy.repository;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.Instant;
import java.util.Optional;

/**
 * A snapshot's summary object ({@code summaries/VM/DISK/ID}, JSON, encrypted like a manifest when the
 * repository is): the line {@code snapshots} prints, without the extent map. Written after the manifest
 * (the manifest stays the commit point: a summary without its manifest is ignored, a manifest without
 * a summary is read whole), so listing thousands of snapshots reads a few hundred bytes each.
 */
final class SummaryCodec {
    static final String PREFIX = "summaries/";
    private static final ObjectMapper JSON = new ObjectMapper();

    private SummaryCodec() {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    static final class Json {
        public String id;
        public String vm;
        public String disk;
        public String created;
        public String kind;
        public String reason;
        public long virtualSize;
        public long dataBytes;
        public long bytesStored;
        public String parent;
        public String checkpointUsed;
        public String checkpointCreated;
        public String eventId;
    }

    static byte[] encode(SnapshotSummary s) {
        Json j = new Json();
        j.id = s.id().value();
        j.vm = s.vm();
        j.disk = s.disk();
        j.created = s.created().toString();
        j.kind = s.kind().name();
        j.reason = s.reason();
        j.virtualSize = s.virtualSize();
        j.dataBytes = s.dataBytes();
        j.bytesStored = s.bytesStored();
        j.parent = s.parent().map(SnapshotId::value).orElse(null);
        j.checkpointUsed = s.checkpointUsed();
        j.checkpointCreated = s.checkpointCreated();
        j.eventId = s.eventId();
        try {
            return JSON.writeValueAsBytes(j);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write a snapshot summary", e);
        }
    }

    static SnapshotSummary decode(String name, byte[] json) throws ChunkCorruptException {
        try {
            Json j = JSON.readValue(json, Json.class);
            return new SnapshotSummary(SnapshotId.parse(j.id), j.vm, j.disk, Instant.parse(j.created), SnapshotKind.valueOf(j.kind),
                    j.reason == null ? "" : j.reason, j.virtualSize, j.dataBytes, j.bytesStored,
                    Optional.ofNullable(j.parent).map(SnapshotId::parse), j.checkpointUsed, j.checkpointCreated,
                    j.eventId);
        } catch (IOException | RuntimeException e) {
            throw new ChunkCorruptException(name, "is not a snapshot summary: " + e.getMessage());
        }
    }

    /** summaries/VM/DISK/ID for snapshots/VM/DISK/ID */
    static String keyFor(String manifestKey) {
        return PREFIX + manifestKey.substring(Repository.SNAPSHOTS.length());
    }
}
