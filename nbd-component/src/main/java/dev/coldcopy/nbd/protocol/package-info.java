/**
 * A pure-Java NBD client (no Camel types here).
 *
 * <pre>{@code
 * NbdClientOptions options = NbdClientOptions.builder().metaContexts("base:allocation", "qemu:dirty-bitmap:b0").build();
 * try (NbdClient client = NbdClient.connect(NbdUri.parse("nbd+unix:///disk?socket=/run/x.sock"), options)) {
 *     List<Extent> dirty = client.blockStatus("qemu:dirty-bitmap:b0", 0, client.size());
 *     ByteBuffer buf = ByteBuffer.allocateDirect(4 << 20);
 *     client.readAsync(offset, buf).join();       // many may be in flight; holes arrive as zeroes
 * }
 * }</pre>
 *
 * <p>Threading: every method is thread-safe. The *Async methods block their caller only while the
 * in-flight window ({@link dev.coldcopy.nbd.protocol.NbdClientOptions#maxInFlight()}) is full; their
 * futures complete on the connection's reader thread, so callbacks must be short and must not wait on
 * other NBD requests (chain with {@code thenComposeAsync} if they issue more requests).
 *
 * <p>Not implemented: the extended header framing (NBD_OPT_EXTENDED_HEADERS is never requested; qemu 7.2
 * and nbdkit 1.32 do not offer it), TLS over Unix sockets ({@code nbds+unix} is refused), TLS-PSK.
 */
package dev.coldcopy.nbd.protocol;
