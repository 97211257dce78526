package dev.coldcopy.service;

import dev.coldcopy.backup.RunDirectory;
import dev.coldcopy.backup.Reaper;
import dev.coldcopy.qemu.ChainInspector;
import dev.coldcopy.qemu.ExportServer;
import dev.coldcopy.qemu.QemuTools;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.security.ImagePolicy;
import dev.coldcopy.service.steps.DiskBackup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
    private final RunDirectory runDirectory;
    private final ExportServer exports;
    private Repository repository;
    private final ImagePolicy filePolicy;
    private final Set<DiskBackup> running = ConcurrentHashMap.newKeySet();
    private volatile boolean stopping;
    private volatile BackupProgress progress = BackupProgress.logLines(java.time.Duration.ofSeconds(5));

    public BackupEngine(BackupSettings settings, CamelContext camel) throws IOException {
        this.settings = settings;
        this.camel = camel;
        this.runDirectory = RunDirectory.at(settings.workDir());
        this.inspector = new ChainInspector(tools, new ImagePolicy(existingRoots(settings.allowedRoots())));
        // a VM's host files (NVRAM, kernel) may also lie next to its images
        java.util.List<Path> fileRoots = new java.util.ArrayList<>(settings.allowedFileRoots());
        fileRoots.addAll(settings.allowedRoots());
        this.filePolicy = new ImagePolicy(existingRoots(fileRoots));
        this.exports = ExportServer.named(settings.exportWay(), tools, runDirectory.exports());
    }

    /**
     * A configured root that does not exist (yet) holds no image; it is skipped, not fatal (and not
     * warned about here: {@code run} warns once at start, a one-shot backup names its own images).
     */
    private static java.util.List<Path> existingRoots(java.util.List<Path> roots) {
        java.util.List<Path> existing = roots.stream().filter(Files::isDirectory).toList();
        roots.stream().filter(r -> !Files.isDirectory(r))
                .forEach(r -> LOG.debug("allowed root {} does not exist; ignoring it", r));
        if (existing.isEmpty()) {
            throw new IllegalStateException("none of the allowed image roots exists: " + roots
                    + " (set coldcopy.allowed-roots)");
        }
        return existing;
    }

    /** Undoes what a crashed run left behind (processes, sockets, overlays, uncommitted checkpoints). */
    public void reap() {
        new Reaper(runDirectory, tools).reap().forEach(done -> LOG.warn("reaper: {}", done));
    }

    /** A disk backup starts. @throws BackupInterruptedException coldcopy is stopping */
    public void register(DiskBackup backup) {
        running.add(backup);
        if (stopping) {
            running.remove(backup);
            throw new BackupInterruptedException(backup.job().label() + ": interrupted before it started");
        }
    }

    public void unregister(DiskBackup backup) {
        running.remove(backup);
    }

    /**
     * coldcopy is being stopped (Ctrl-C, SIGTERM): no new disk backup starts, and every running one is rolled
     * back now — export stopped, new checkpoint removed, no manifest, disk lock released.
     *
     * @return how many disk backups were stopped
     */
    public int abortAll() {
        stopping = true;
        int n = 0;
        for (DiskBackup backup : List.copyOf(running)) {
            try {
                backup.abort();
                n++;
            } catch (RuntimeException e) {
                LOG.warn("{}: rolling back failed: {}", backup.job().label(), e.getMessage());
            }
        }
        return n;
    }

    public BackupProgress progress() {
        return progress;
    }

    /** How disk backups report their progress (log lines every few seconds by default). */
    public void progress(BackupProgress progress) {
        this.progress = progress;
    }

    public BackupSettings settings() {
        return settings;
    }

    public QemuTools tools() {
        return tools;
    }

    /** Where a VM's host files (NVRAM, direct-boot kernel, initrd, dtb) may be read from. */
    public ImagePolicy filePolicy() {
        return filePolicy;
    }

    public ChainInspector inspector() {
        return inspector;
    }

    public RunDirectory runDirectory() {
        return runDirectory;
    }

    public ExportServer exports() {
        return exports;
    }

    /** The repository, opened on first use and created when it does not exist yet. */
    public synchronized Repository repository() throws IOException {
        if (repository == null) {
            RepositoryUri uri = RepositoryUri.parse(settings.repository());
            RepositoryOptions.Builder options = RepositoryOptions.builder()
                    .zstdLevel(settings.compressionLevel())
                    .durableWrites(settings.fsync())
                    .camelContext(camel);
            settings.keyFile().ifPresent(options::keyFile);
            settings.s3Settings().forEach(options::s3Setting);
            settings.sftpPrivateKeyFile().ifPresent(options::sftpPrivateKeyFile);
            settings.sftpKnownHostsFile().ifPresent(options::sftpKnownHostsFile);
            if (settings.s3AccessKey().isPresent() && settings.s3SecretKey().isPresent()) {
                // else the repository falls back to AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, then the AWS chain
                options.s3Credentials(settings.s3AccessKey().get(), settings.s3SecretKey().get());
            }
            repository = Repository.openOrInit(uri, options.build());
            LOG.info("repository {} (id {})", uri, repository.id());
        }
        return repository;
    }

    @Override
    public synchronized void close() {
        if (repository != null) {
            repository.close();
            repository = null;
        }
    }
}
