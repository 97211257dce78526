package dev.coldcopy.service;

import dev.coldcopy.backup.DiskLocks;
import dev.coldcopy.backup.Reaper;
import dev.coldcopy.checkpoint.CheckpointJournal;
import dev.coldcopy.qemu.ChainInspector;
import dev.coldcopy.qemu.ExportServer;
import dev.coldcopy.qemu.QemuTools;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.security.ImagePolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.apache.camel.CamelContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The long-lived parts every disk backup shares: qemu tools, the image policy, the export server, the
 * checkpoint journal, the per-disk locks and the repository (opened once, created on first use).
 */
public final class BackupEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BackupEngine.class);

    private final BackupSettings settings;
    private final CamelContext camel;
    private final QemuTools tools = QemuTools.defaults();
    private final ChainInspector inspector;
    private final CheckpointJournal journal;
    private final ExportServer exports;
    private final DiskLocks locks;
    private Repository repository;

    public BackupEngine(BackupSettings settings, CamelContext camel) throws IOException {
        this.settings = settings;
        this.camel = camel;
        Path work = settings.workDir();
        Files.createDirectories(work);
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwx------"));
        this.inspector = new ChainInspector(tools, new ImagePolicy(existingRoots(settings.allowedRoots())));
        this.journal = new CheckpointJournal(work.resolve("journal"));
        this.exports = ExportServer.named(settings.exportWay(), tools, work.resolve("exports"));
        this.locks = new DiskLocks(work.resolve("locks"));
    }

    /** A configured root that does not exist (yet) holds no image; it is skipped, not fatal. */
    private static java.util.List<Path> existingRoots(java.util.List<Path> roots) {
        java.util.List<Path> existing = roots.stream().filter(Files::isDirectory).toList();
        roots.stream().filter(r -> !Files.isDirectory(r))
                .forEach(r -> LOG.warn("allowed root {} does not exist; ignoring it", r));
        if (existing.isEmpty()) {
            throw new IllegalStateException("none of the allowed image roots exists: " + roots
                    + " (set coldcopy.allowed-roots)");
        }
        return existing;
    }

    /** Undoes what a crashed run left behind (processes, sockets, overlays, uncommitted checkpoints). */
    public void reap() {
        new Reaper(settings.workDir(), tools).reap().forEach(done -> LOG.warn("reaper: {}", done));
    }

    public BackupSettings settings() {
        return settings;
    }

    public QemuTools tools() {
        return tools;
    }

    public ChainInspector inspector() {
        return inspector;
    }

    public CheckpointJournal journal() {
        return journal;
    }

    public ExportServer exports() {
        return exports;
    }

    public DiskLocks locks() {
        return locks;
    }

    /** The repository, opened on first use and created when it does not exist yet. */
    public synchronized Repository repository() throws IOException {
        if (repository == null) {
            RepositoryUri uri = RepositoryUri.parse(settings.repository());
            RepositoryOptions.Builder options = RepositoryOptions.builder()
                    .zstdLevel(settings.compressionLevel())
                    .camelContext(camel);
            settings.keyFile().ifPresent(options::keyFile);
            settings.sftpPrivateKeyFile().ifPresent(options::sftpPrivateKeyFile);
            settings.sftpKnownHostsFile().ifPresent(options::sftpKnownHostsFile);
            repository = openOrInit(uri, options.build());
            LOG.info("repository {} (id {})", uri, repository.id());
        }
        return repository;
    }

    private static Repository openOrInit(RepositoryUri uri, RepositoryOptions options) throws IOException {
        try {
            return Repository.open(uri, options);
        } catch (dev.coldcopy.repository.RepositoryNotFoundException e) {
            LOG.info("creating repository {}", uri);
            return Repository.init(uri, options);
        }
    }

    @Override
    public synchronized void close() {
        if (repository != null) {
            repository.close();
            repository = null;
        }
    }
}
