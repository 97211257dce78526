package dev.coldcopy.repository;

/** A stored chunk (or object) failed verification: checksum, decryption, decompression or content hash. */
public class ChunkCorruptException extends RepositoryException {
    private static final long serialVersionUID = 1L;
    private final String objectName;

    public ChunkCorruptException(String objectName, String reason) {
        super(objectName + ": " + reason);
        this.objectName = objectName;
    }

    /** the chunk's address in hex, or the object's key */
    public String objectName() {
        return objectName;
    }
}
