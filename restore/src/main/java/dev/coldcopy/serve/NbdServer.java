package dev.coldcopy.serve;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A read-only NBD server for one export, on a Unix socket or TCP. One thread per client; any number of
 * clients at once (multi-conn is safe: nothing ever changes). {@link #close()} stops accepting, ends
 * every connection and removes the socket file.
 */
public final class NbdServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NbdServer.class);
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final ServedExport export;
    private final ServerTls tls; // null: plain
    private final ClientListener listener;
    private final ServerSocketChannel socketListener;
    private final ServeAddress address;
    private final Path socketFile; // null on TCP
    private final Set<SocketChannel> clients = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;
    private int served;
    private volatile boolean closed;

    private NbdServer(ServedExport export, ServerTls tls, ClientListener clientListener, ServerSocketChannel socketListener,
                      ServeAddress address, Path socketFile) {
        this.export = export;
        this.tls = tls;
        this.listener = clientListener;
        this.socketListener = socketListener;
        this.address = address;
        this.socketFile = socketFile;
        this.acceptor = new Thread(this::accept, "coldcopy-serve-accept");
        this.acceptor.setDaemon(true);
    }

    /** binds and starts accepting; a Unix socket path must not exist yet */
    public static NbdServer start(ServedExport export, ServeAddress where) throws IOException {
        return start(export, where, null);
    }

    /** as {@link #start(ServedExport, ServeAddress)}; with {@code tls} (TCP only) clients must start TLS first */
    public static NbdServer start(ServedExport export, ServeAddress where, ServerTls tls) throws IOException {
        return start(export, where, tls, ClientListener.NONE);
    }

    /** as {@link #start(ServedExport, ServeAddress, ServerTls)}, telling {@code clients} who comes and goes */
    public static NbdServer start(ServedExport export, ServeAddress where, ServerTls tls, ClientListener clients) throws IOException {
        NbdServer server;
        if (where instanceof ServeAddress.Unix unix) {
            if (tls != null) {
                throw new IllegalArgumentException("TLS is for TCP (--listen); a Unix socket is protected by its file permissions");
            }
            Path socket = unix.socket().toAbsolutePath();
            if (Files.exists(socket, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                throw new IOException("socket " + socket + " exists; remove it or choose another path");
            }
            ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.bind(UnixDomainSocketAddress.of(socket));
            } catch (IOException e) {
                ch.close();
                throw new IOException("cannot listen on " + socket + ": " + e.getMessage(), e);
            }
            server = new NbdServer(export, null, clients, ch, new ServeAddress.Unix(socket), socket);
        } else {
            ServeAddress.Tcp tcp = (ServeAddress.Tcp) where;
            ServerSocketChannel ch = ServerSocketChannel.open();
            try {
                ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                ch.bind(tcp.socketAddress());
            } catch (IOException e) {
                ch.close();
                throw new IOException("cannot listen on " + tcp.host() + ":" + tcp.port() + ": " + e.getMessage(), e);
            }
            int port = ((InetSocketAddress) ch.getLocalAddress()).getPort();
            server = new NbdServer(export, tls, clients, ch, new ServeAddress.Tcp(tcp.host(), port), null);
        }
        server.acceptor.start();
        if (tls == null) {
            LOG.info("serving snapshot {} at {}", export.image().manifest().id(), server.uri());
        } else {
            LOG.info("serving snapshot {} at {} (TLS only, certificate {})", export.image().manifest().id(), server.uri(), tls.certificate());
        }
        return server;
    }

    public ServeAddress address() {
        return address;
    }

    /** the URI clients connect to, naming the export */
    public String uri() {
        return address.uri(export.name(), tls != null);
    }

    public ServedExport export() {
        return export;
    }

    /** clients connected now */
    public int clients() {
        return clients.size();
    }

    /**
     * Blocks until at least one client has come and every client has gone again, and no new one came
     * within {@code grace} (clients such as qemu-img probe and reopen), or until the server closed.
     */
    public synchronized void awaitLastClientGone(Duration grace) throws InterruptedException {
        while (!closed) {
            if (served == 0 || !clients.isEmpty()) {
                wait();
                continue;
            }
            int before = served;
            long deadline = System.nanoTime() + grace.toNanos();
            long left;
            while (!closed && served == before && (left = deadline - System.nanoTime()) > 0) {
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            if (served == before) {
                return;
            }
        }
    }

    private void accept() {
        while (!closed) {
            SocketChannel client;
            try {
                client = socketListener.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("accepting a client failed: {}", e.getMessage());
                }
                continue;
            }
            String peer = peer(client);
            synchronized (this) {
                if (closed) {
                    closeQuietly(client);
                    return;
                }
                clients.add(client);
                served++;
                notifyAll();
            }
            LOG.info("{}: connected", peer);
            Thread t = new Thread(() -> {
                try {
                    tell(() -> listener.connected(peer, clients.size()));
                    new ServerConnection(new ServerWire.Plain(client), export, tls, peer).run();
                } finally {
                    synchronized (this) {
                        clients.remove(client);
                        notifyAll();
                    }
                    tell(() -> listener.disconnected(peer, clients.size()));
                }
            }, "coldcopy-serve-" + THREADS.incrementAndGet());
            t.setDaemon(true);
            t.start();
        }
    }

    /** a listener's failure is its own: the client is served all the same */
    private static void tell(Runnable event) {
        try {
            event.run();
        } catch (RuntimeException e) {
            LOG.warn("a client listener failed: {}", e.toString());
        }
    }

    private String peer(SocketChannel client) {
        try {
            if (client.getRemoteAddress() instanceof InetSocketAddress inet) {
                return "client " + inet.getAddress().getHostAddress() + ":" + inet.getPort();
            }
        } catch (IOException ignored) {
            // fall through to a numbered name
        }
        return "client " + (served + 1);
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            notifyAll();
        }
        closeQuietly(socketListener);
        for (SocketChannel c : clients) {
            closeQuietly(c);
        }
        try {
            acceptor.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (socketFile != null) {
            try {
                Files.deleteIfExists(socketFile);
            } catch (IOException e) {
                LOG.warn("could not remove socket {}: {}", socketFile, e.getMessage());
            }
        }
        LOG.info("stopped serving snapshot {}", export.image().manifest().id());
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // nothing left to release
        }
    }
}
