package dev.coldcopy.nbd.camel;

/** What the {@code nbd:} producer does with an exchange. */
public enum NbdOperations {
    /** Body becomes a lazy, closeable iterator of chunks (for {@code split} with {@code streaming}). */
    chunks,
    /** Body becomes the list of extents of the meta context over the export (or CamelNbdOffset/Length). */
    extents,
    /** Writes the body bytes at CamelNbdOffset (a ZERO chunk with no body writes zeroes instead). */
    write,
    /** Writes CamelNbdLength zero bytes at CamelNbdOffset. */
    writeZeroes,
    /** Asks the server to make completed writes durable. */
    flush,
    /** Body becomes the export's ExportInfo (with every meta context it offers); CamelNbdExportSize is set. */
    info,
    /** Body becomes the server's exports (NBD_OPT_LIST) as a list of ExportDescription (name, description). */
    list,
    /**
     * Closes the shared write connection to the export (write, writeZeroes and flush keep one open per
     * export until the component stops); end a write stream with flush, then disconnect.
     */
    disconnect
}
