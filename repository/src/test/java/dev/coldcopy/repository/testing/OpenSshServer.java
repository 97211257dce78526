package dev.coldcopy.repository.testing;

import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;

/**
 * Debian's OpenSSH sshd ({@code /usr/sbin/sshd -D -e -f CONFIG}) on a free loopback port, with its own
 * config, host key, pid file and authorized_keys in a private directory: the SFTP server users actually
 * run. The user is the one running the tests; its login directory is its home (as with any OpenSSH
 * account), not {@code /}. SFTP is {@code internal-sftp}, which offers {@code fsync@openssh.com}.
 */
public final class OpenSshServer implements AutoCloseable {
    public static final Path SSHD = Path.of("/usr/sbin/sshd");

    private final Path dir;
    private final int port;
    private final Process process;
    private final Path privateKeyFile;
    private final Path knownHostsFile;
    private final Path log;

    private OpenSshServer(Path dir) throws IOException, GeneralSecurityException, InterruptedException {
        this.dir = Files.createDirectories(dir.resolve("openssh"));
        KeyPair hostKey = ecKey();
        KeyPair clientKey = ecKey();
        Path hostKeyFile = writePrivateKey(this.dir.resolve("ssh_host_ecdsa_key"), hostKey);
        privateKeyFile = writePrivateKey(this.dir.resolve("id_ecdsa"), clientKey);
        Path authorizedKeys = this.dir.resolve("authorized_keys");
        Files.writeString(authorizedKeys, PublicKeyEntry.toString(clientKey.getPublic()) + "\n");
        if (isRoot()) {
            // sshd insists on its privilege separation directory (the Debian package makes it at boot)
            Files.createDirectories(Path.of("/run/sshd"));
        }
        this.log = this.dir.resolve("sshd.log");
        Process started = null;
        int chosen = -1;
        // a free port can be taken by someone else before sshd binds it: try a few
        for (int attempt = 0; attempt < 3 && started == null; attempt++) {
            chosen = freePort();
            Path config = this.dir.resolve("sshd_config");
            Files.write(config, List.of(
                    "Port " + chosen,
                    "ListenAddress 127.0.0.1",
                    "HostKey " + hostKeyFile,
                    "PidFile " + this.dir.resolve("sshd.pid"),
                    "AuthorizedKeysFile " + authorizedKeys,
                    "StrictModes no",
                    "PermitRootLogin prohibit-password",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "Subsystem sftp internal-sftp",
                    "LogLevel VERBOSE"));
            Process p = new ProcessBuilder(SSHD.toString(), "-D", "-e", "-f", config.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
            if (awaitListening(p, chosen)) {
                started = p;
            } else {
                stop(p);
            }
        }
        if (started == null) {
            throw new IOException("sshd did not start: " + Files.readString(log).strip());
        }
        this.process = started;
        this.port = chosen;
        knownHostsFile = this.dir.resolve("known_hosts");
        Files.writeString(knownHostsFile, "[127.0.0.1]:" + port + " " + PublicKeyEntry.toString(hostKey.getPublic()) + "\n");
    }

    /** starts sshd with its files in a new directory below dir */
    public static OpenSshServer start(Path dir) throws IOException {
        try {
            return new OpenSshServer(dir);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot generate test keys: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting sshd");
        }
    }

    public static boolean available() {
        return Files.isExecutable(SSHD);
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static boolean awaitListening(Process p, int port) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                return false;
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return true;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        return false;
    }

    private static Path writePrivateKey(Path file, KeyPair key) throws IOException, GeneralSecurityException {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try (OutputStream out = Files.newOutputStream(file)) {
            OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(key, "coldcopy-test", null, out);
        }
        return file;
    }

    private static KeyPair ecKey() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    public int port() {
        return port;
    }

    /** the account sshd logs the client in as (the user running the tests) */
    public static String user() {
        return System.getProperty("user.name");
    }

    /** where the login lands: the user's home directory, from which relative SFTP paths start */
    public static Path loginDirectory() {
        return Path.of(System.getProperty("user.home"));
    }

    /** an sftp:// URI for an absolute directory on this host */
    public RepositoryUri repositoryUri(Path absolute) {
        return RepositoryUri.parse("sftp://" + user() + "@127.0.0.1:" + port + absolute.toAbsolutePath());
    }

    public RepositoryOptions.Builder options(RepositoryOptions.Builder b) {
        return b.sftpPrivateKeyFile(privateKeyFile).sftpKnownHostsFile(knownHostsFile);
    }

    /** sshd's own log (-e): connections, authentications, and what internal-sftp was asked to do */
    public String log() throws IOException {
        return Files.readString(log);
    }

    private static void stop(Process p) throws InterruptedException {
        p.descendants().forEach(ProcessHandle::destroy);
        p.destroy();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            stop(process);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
