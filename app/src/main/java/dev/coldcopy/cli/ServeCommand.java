package dev.coldcopy.cli;

import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.serve.ClientListener;
import dev.coldcopy.serve.NbdServer;
import dev.coldcopy.serve.ServeAddress;
import dev.coldcopy.serve.ServeSession;
import dev.coldcopy.serve.ServerTls;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        description = {
            "Serve a snapshot of a disk as a read-only NBD export.",
            "",
            "Straight from the repository: chunks are read when a client needs them, each",
            "verified before it is served (a damaged one is an I/O error, never wrong",
            "data). Prints the NBD URI, then serves until interrupted (Ctrl-C) or, with",
            "--once, until the last client disconnects. Any NBD client works: qemu-img,",
            "qemu-io, nbdcopy, nbdinfo, qemu, nbd-client. A delta snapshot is served",
            "over its base image (--onto BASE), as restore --onto writes it.",
            "",
            "Examples:",
            "  coldcopy serve --repo file:/backups --vm web --disk vda \\",
            "      --socket /tmp/web.sock",
            "  qemu-img convert -p -O qcow2 'nbd+unix:///?socket=/tmp/web.sock' \\",
            "      web-vda.qcow2",
            "  qemu-img create -f qcow2 -F raw \\",
            "      -b 'nbd+unix:///?socket=/tmp/web.sock' overlay.qcow2",
            "",
            "Beyond loopback, with TLS (clients must start it; nbds:// URIs):",
            "  coldcopy serve --repo file:/backups --vm web --disk vda \\",
            "      --listen 0.0.0.0:10809 --tls-cert cert.pem --tls-key key.pem",
            "  nbdinfo 'nbds://backuphost:10809/?tls-certificates=/etc/pki/web'"
        })
final class ServeCommand implements Callable<Integer> {
    /** clients may hang up and come straight back (qemu-img probes, then opens): --once waits this long */
    static final java.time.Duration ONCE_GRACE = java.time.Duration.ofSeconds(1);

    @Spec
    CommandSpec spec;

    @Mixin
    RepositoryOptionsMixin repo;

    @Mixin
    SnapshotSelectionMixin selection;

    @Mixin
    ServeTlsOptions tlsOptions;

    @ArgGroup(exclusive = true)
    Where where;

    static final class Where {
        @Option(names = "--socket", paramLabel = "PATH",
                description = "Unix socket to listen on (must not exist). Default: a new private directory under the temp dir.")
        Path socket;

        @Option(names = "--listen", paramLabel = "HOST:PORT",
                description = "TCP address to listen on instead of a Unix socket: loopback (127.0.0.1:10809, [::1]:10809),"
                        + " or any address with --tls-cert/--tls-key. Port 0 picks a free one.")
        String listen;
    }

    @Option(names = "--onto", paramLabel = "BASE",
            description = "For a delta snapshot: the disk as it was at its checkpoint (any format qemu reads); the ranges the"
                    + " delta does not hold are read from it, as restore --onto copies them. It is never written.")
    Path onto;

    @Option(names = "--once", description = "Exit when the last client disconnects (after the first one came, and no other within a second).")
    boolean once;

    @Option(names = "--cache-size", paramLabel = "SIZE", defaultValue = "256M",
            description = "Memory for verified chunks, least recently used dropped first (default 256M; 0 = no cache).")
    String cacheSize;

    @Override
    public Integer call() throws Exception {
        long cache = Sizes.parse(cacheSize);
        ServerTls tls = tlsOptions.load();
        ServeSession.Options options = new ServeSession.Options(cache, onto, address(tls != null), tls);
        try (Repository repository = repo.open()) {
            SnapshotManifest manifest = selection.find(repository, onto != null);
            CountDownLatch stopRequested = new CountDownLatch(1);
            CountDownLatch stopped = new CountDownLatch(1);
            ServeSession session = ServeSession.start(repository, manifest, options, ClientListener.NONE);
            try {
                Thread hook = new Thread(() -> {
                    stopRequested.countDown();
                    session.server().close();
                    try {
                        // let the serving thread finish its cleanup (qemu-nbd of --onto, the socket) before the JVM ends
                        stopped.await(5, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }, "coldcopy-serve-stop");
                Runtime.getRuntime().addShutdownHook(hook);
                printUri(manifest, session.server());
                if (once) {
                    session.server().awaitLastClientGone(ONCE_GRACE);
                } else {
                    stopRequested.await(); // until interrupted (Ctrl-C, SIGTERM): the hook stops the server
                }
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is running already
                }
            } finally {
                session.close();
                stopped.countDown();
            }
        }
        return 0;
    }

    private void printUri(SnapshotManifest manifest, NbdServer server) {
        PrintWriter out = spec.commandLine().getOut();
        out.printf("serving %s/%s snapshot %s (%s%s, %s, read-only); connect to:%n%s%n", selection.vm, selection.disk, manifest.id(),
                manifest.kind().label(), onto == null ? "" : " onto " + onto.toAbsolutePath(), Sizes.human(manifest.virtualSize()),
                server.uri());
        out.flush();
    }

    private ServeAddress address(boolean tls) throws IOException {
        if (tls && (where == null || where.listen == null)) {
            throw new IllegalArgumentException("--tls-cert/--tls-key need --listen HOST:PORT: TLS protects TCP; a Unix socket"
                    + " is protected by its file permissions");
        }
        if (where == null) {
            return null;
        }
        if (where.socket != null) {
            return new ServeAddress.Unix(where.socket);
        }
        ServeAddress.Tcp tcp = ServeAddress.parseListen(where.listen);
        if (!tls && !tcp.loopback()) {
            throw new IllegalArgumentException("refusing to listen on " + tcp.host() + ": it is not a loopback address, and without"
                    + " --tls-cert/--tls-key the disk's data would cross the network in the clear; use TLS, --socket, a loopback"
                    + " address, or an SSH tunnel");
        }
        return tcp;
    }
}
