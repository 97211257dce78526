package dev.coldcopy.repository.testing;

import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.List;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.file.virtualfs.VirtualFileSystemFactory;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.sftp.server.SftpSubsystemFactory;

/**
 * An embedded SFTP server (Apache MINA SSHD) on a loopback port, rooted at a directory, accepting only
 * one user with an ECDSA key generated here. Writes the client's private key (OpenSSH format) and a
 * known_hosts line for the server's host key, so clients check the host key as they would in production.
 */
public final class SftpServer implements AutoCloseable {
    public static final String USER = "backup";

    private final SshServer server;
    private final Path root;
    private final Path privateKeyFile;
    private final Path knownHostsFile;

    private SftpServer(Path dir) throws IOException, GeneralSecurityException {
        this.root = Files.createDirectories(dir.resolve("sftp-root"));
        KeyPair hostKey = ecKey();
        KeyPair clientKey = ecKey();
        server = SshServer.setUpDefaultServer();
        server.setHost("127.0.0.1");
        server.setPort(0);
        server.setKeyPairProvider(KeyPairProvider.wrap(hostKey));
        server.setPublickeyAuthenticator((user, key, session) -> USER.equals(user) && KeyUtils.compareKeys(key, clientKey.getPublic()));
        server.setPasswordAuthenticator(null);
        server.setKeyboardInteractiveAuthenticator(null);
        server.setSubsystemFactories(List.of(new SftpSubsystemFactory()));
        server.setFileSystemFactory(new VirtualFileSystemFactory(root));
        server.start();
        Path keys = Files.createDirectories(dir.resolve("ssh"));
        privateKeyFile = keys.resolve("id_ecdsa");
        try (OutputStream out = Files.newOutputStream(privateKeyFile)) {
            OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(clientKey, "coldcopy-test", null, out);
        }
        knownHostsFile = keys.resolve("known_hosts");
        Files.writeString(knownHostsFile, "[127.0.0.1]:" + server.getPort() + " " + PublicKeyEntry.toString(hostKey.getPublic()) + "\n");
    }

    public static SftpServer start(Path dir) throws IOException {
        try {
            return new SftpServer(dir);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot generate test keys: " + e.getMessage(), e);
        }
    }

    private static KeyPair ecKey() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    public int port() {
        return server.getPort();
    }

    /** the server's file system root (what "/" is for the client) */
    public Path root() {
        return root;
    }

    public Path privateKeyFile() {
        return privateKeyFile;
    }

    public Path knownHostsFile() {
        return knownHostsFile;
    }

    public RepositoryUri repositoryUri(String path) {
        return RepositoryUri.parse("sftp://" + USER + "@127.0.0.1:" + port() + "/" + path);
    }

    /** options with this server's client key and known_hosts filled in */
    public RepositoryOptions.Builder options(RepositoryOptions.Builder b) {
        return b.sftpPrivateKeyFile(privateKeyFile).sftpKnownHostsFile(knownHostsFile);
    }

    @Override
    public void close() throws IOException {
        server.stop(true);
    }
}
