package dev.coldcopy.nbd.camel;

import org.apache.camel.spi.Metadata;

/** Header names of the {@code nbd:} component. */
public final class NbdConstants {

    @Metadata(description = "Offset of the chunk in the export; for write/writeZeroes where to write; for extents where to start.",
              javaType = "long")
    public static final String OFFSET = "CamelNbdOffset";
    @Metadata(description = "Length of the chunk in bytes; for writeZeroes how many; for extents how far.",
              javaType = "long")
    public static final String LENGTH = "CamelNbdLength";
    @Metadata(description = "Size of the export in bytes.", javaType = "long")
    public static final String EXPORT_SIZE = "CamelNbdExportSize";
    @Metadata(description = "DATA (body holds the bytes), ZERO (reads as zeroes, body null) or NONE (empty pass marker).",
              javaType = "String")
    public static final String CHUNK_KIND = "CamelNbdChunkKind";
    @Metadata(description = "0-based index of the chunk in its pass.", javaType = "long")
    public static final String CHUNK_INDEX = "CamelNbdChunkIndex";
    @Metadata(description = "true on the last chunk of a pass only.", javaType = "boolean")
    public static final String LAST_CHUNK = "CamelNbdLastChunk";
    @Metadata(description = "On the last chunk: how many chunks the pass emitted.", javaType = "long")
    public static final String CHUNK_COUNT = "CamelNbdChunkCount";
    @Metadata(label = "producer", description = "An NBD URI (nbd://, nbds://, nbd+unix://) overriding the endpoint's export.",
              javaType = "String")
    public static final String URI = "CamelNbdUri";
    @Metadata(label = "producer", description = "Overrides the endpoint's operation.", javaType = "String")
    public static final String OPERATION = "CamelNbdOperation";
    @Metadata(label = "producer", description = "Overrides the endpoint's metaContext.", javaType = "String")
    public static final String META_CONTEXT = "CamelNbdMetaContext";

    private NbdConstants() {}
}
