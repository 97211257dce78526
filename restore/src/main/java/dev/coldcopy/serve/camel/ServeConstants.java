package dev.coldcopy.serve.camel;

import org.apache.camel.spi.Metadata;

/**
 * Header names of the {@code coldcopy-serve:} consumer's exchanges (one per client that comes or goes) and of
 * the {@code serveSnapshot} processor.
 */
public final class ServeConstants {

    // in, serveSnapshot: the service's own names for a disk and a snapshot (app's ColdcopyHeaders holds the same)
    @Metadata(description = "In (serveSnapshot): the VM whose disk to serve.", javaType = "String")
    public static final String VM = "CamelColdcopyVm";
    @Metadata(description = "In (serveSnapshot): the disk's target name.", javaType = "String")
    public static final String DISK = "CamelColdcopyDisk";
    @Metadata(description = "In (serveSnapshot), optional: the snapshot id; default latest.", javaType = "String")
    public static final String SNAPSHOT_ID = "CamelColdcopySnapshotId";
    @Metadata(description = "In (serveSnapshot), optional: stop serving after this long (milliseconds or ISO-8601).",
            javaType = "String")
    public static final String TIMEOUT = "CamelColdcopyServeTimeout";

    // out

    @Metadata(description = "connected or disconnected.", javaType = "String")
    public static final String EVENT = "CamelColdcopyServeEvent";
    @Metadata(description = "The NBD URI clients connect to (nbd+unix://, nbd:// or nbds://), naming the export.", javaType = "String")
    public static final String URI = "CamelColdcopyServeUri";
    @Metadata(description = "Clients connected after this event.", javaType = "int")
    public static final String CLIENTS = "CamelColdcopyServeClients";
    @Metadata(description = "Who connected: address:port on TCP, a number on a Unix socket.", javaType = "String")
    public static final String PEER = "CamelColdcopyServePeer";
    @Metadata(description = "Id of the snapshot being served.", javaType = "String")
    public static final String SNAPSHOT = "CamelColdcopyServeSnapshot";

    public static final String CONNECTED = "connected";
    public static final String DISCONNECTED = "disconnected";

    private ServeConstants() {
    }
}
