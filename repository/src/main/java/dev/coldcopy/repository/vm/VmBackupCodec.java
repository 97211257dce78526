package dev.coldcopy.repository.vm;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coldcopy.repository.ChunkAddress;
import dev.coldcopy.repository.ChunkCorruptException;
import dev.coldcopy.repository.SnapshotId;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The JSON form of a {@link VmBackup} record (before the chunk codec seals it as it does manifests).
 * Readable and extensible: fields this version does not know are ignored; a newer format number is refused.
 */
final class VmBackupCodec {
    static final int FORMAT = 1;
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);

    private VmBackupCodec() {
    }

    static final class Record {
        public int format = FORMAT;
        public String id;
        public String vm;
        public String eventId;
        public String created;
        public List<Disk> disks = new ArrayList<>();
        public List<File> files = new ArrayList<>();
        public List<String> notes = new ArrayList<>();
    }

    static final class Disk {
        public String target;
        public String device;
        public String source;
        public String format;
        public String outcome;
        public String snapshot;
        public String reason;
    }

    static final class File {
        public String role;
        public String path;
        public long size;
        public String sha256;
        public List<Chunk> chunks = new ArrayList<>();
    }

    static final class Chunk {
        public String address;
        public int length;
    }

    static byte[] encode(VmBackup b) {
        Record r = new Record();
        r.id = b.id().value();
        r.vm = b.vm();
        r.eventId = b.eventId();
        r.created = b.created().toString();
        for (VmDisk d : b.disks()) {
            Disk j = new Disk();
            j.target = d.target();
            j.device = d.device();
            j.source = d.source();
            j.format = d.format();
            j.outcome = d.outcome();
            j.snapshot = d.snapshot() == null ? null : d.snapshot().value();
            j.reason = d.reason();
            r.disks.add(j);
        }
        for (HostFile f : b.files()) {
            File j = new File();
            j.role = f.role();
            j.path = f.path();
            j.size = f.size();
            j.sha256 = f.sha256();
            for (FileChunk c : f.chunks()) {
                Chunk k = new Chunk();
                k.address = c.address().hex();
                k.length = c.length();
                j.chunks.add(k);
            }
            r.files.add(j);
        }
        r.notes.addAll(b.notes());
        try {
            return JSON.writeValueAsBytes(r);
        } catch (IOException e) {
            throw new IllegalStateException("a VM backup record does not serialise", e);
        }
    }

    /** @param name the record's name in messages ({@code vm backup vms/VM/ID}) */
    static VmBackup decode(String name, byte[] json) throws ChunkCorruptException {
        Record r;
        try {
            r = JSON.readValue(json, Record.class);
        } catch (IOException e) {
            throw new ChunkCorruptException(name, "is not a VM backup record: " + oneLine(e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()));
        }
        if (r == null) {
            throw new ChunkCorruptException(name, "is not a VM backup record: empty");
        }
        if (r.format > FORMAT) {
            throw new ChunkCorruptException(name, "VM backup format " + r.format + " is newer than this coldcopy reads (" + FORMAT + ")");
        }
        try {
            List<VmDisk> disks = new ArrayList<>();
            for (Disk d : orEmpty(r.disks)) {
                disks.add(new VmDisk(d.target, d.device, d.source, d.format, d.outcome,
                        d.snapshot == null ? null : SnapshotId.parse(d.snapshot), d.reason));
            }
            List<HostFile> files = new ArrayList<>();
            for (File f : orEmpty(r.files)) {
                List<FileChunk> chunks = new ArrayList<>();
                for (Chunk c : orEmpty(f.chunks)) {
                    chunks.add(new FileChunk(ChunkAddress.parse(String.valueOf(c.address)), c.length));
                }
                files.add(new HostFile(f.role, f.path, f.size, f.sha256, chunks));
            }
            return new VmBackup(SnapshotId.parse(r.id), r.vm, r.eventId, Instant.parse(String.valueOf(r.created)), disks, files, orEmpty(r.notes));
        } catch (RuntimeException e) {
            throw new ChunkCorruptException(name, "is not a valid VM backup record: " + oneLine(e.getMessage()));
        }
    }

    private static <T> List<T> orEmpty(List<T> list) {
        return list == null ? List.of() : list;
    }

    private static String oneLine(String s) {
        return String.valueOf(s).replace('\n', ' ');
    }
}
