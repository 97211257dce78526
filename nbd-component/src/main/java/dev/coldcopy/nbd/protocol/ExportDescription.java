package dev.coldcopy.nbd.protocol;

/** One export as NBD_OPT_LIST reports it; description may be empty. */
public record ExportDescription(String name, String description) {
}
