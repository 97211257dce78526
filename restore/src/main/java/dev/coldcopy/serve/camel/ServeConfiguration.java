package dev.coldcopy.serve.camel;

import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.restore.SnapshotSelection;
import dev.coldcopy.serve.ChunkCache;
import dev.coldcopy.serve.ServeAddress;
import dev.coldcopy.serve.ServeSession;
import dev.coldcopy.serve.ServerTls;
import java.io.IOException;
import java.nio.file.Path;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.Metadata;
import org.apache.camel.spi.UriParam;
import org.apache.camel.spi.UriParams;
import org.apache.camel.spi.UriPath;

/** What a {@code coldcopy-serve:vm/disk} endpoint serves, from where, and on which address. */
@UriParams
public class ServeConfiguration {

    /** The VM whose disk is served (as backups name it). */
    @UriPath
    @Metadata(required = true)
    private String vm;

    /** The disk (target, e.g. vda) of the VM. */
    @UriPath
    @Metadata(required = true)
    private String disk;

    /** Repository URI: file:/path, s3://bucket/prefix?endpoint=..&region=.., sftp://user@host/path. */
    @UriParam
    @Metadata(required = true)
    private String repository;

    /** Snapshot id to serve, or latest (the disk's newest when the route starts). */
    @UriParam(defaultValue = "latest")
    private String snapshot = "latest";

    /** Unix socket to listen on (must not exist). Default: one in a new private directory under the temp dir. */
    @UriParam
    private String socket;

    /** TCP address HOST:PORT instead of a Unix socket: loopback, or any address with tlsCert and tlsKey. Port 0 picks one. */
    @UriParam
    private String listen;

    /** Memory for verified chunks in bytes, least recently used dropped first (0: no cache). */
    @UriParam(defaultValue = "268435456")
    private long cacheSize = ChunkCache.DEFAULT_BYTES;

    /** For a delta snapshot: its base image (the disk at its checkpoint), read for the ranges the delta does not hold. */
    @UriParam
    private String onto;

    /** Key file of an encrypted repository. */
    @UriParam(label = "security")
    private String keyFile;

    /** S3 access key; default the AWS environment variables or profile. */
    @UriParam(label = "security", secret = true)
    private String s3AccessKey;

    /** S3 secret key (with s3AccessKey). */
    @UriParam(label = "security", secret = true)
    private String s3SecretKey;

    /** PEM certificate (chain) for TLS: clients must start TLS (nbds://). Needs tlsKey and listen. */
    @UriParam(label = "security")
    private String tlsCert;

    /** PEM private key of tlsCert (PKCS#8, or PKCS#1 for RSA). Read once, never logged. */
    @UriParam(label = "security")
    private String tlsKey;

    /** refuses what cannot be served safely, before anything is opened */
    void validate() {
        if (repository == null || repository.isBlank()) {
            throw new IllegalArgumentException("coldcopy-serve needs repository= (a repository URI)");
        }
        if (socket != null && listen != null) {
            throw new IllegalArgumentException("coldcopy-serve takes socket= or listen=, not both");
        }
        if ((tlsCert == null) != (tlsKey == null)) {
            throw new IllegalArgumentException("tlsCert and tlsKey go together: give both, or neither");
        }
        if (tlsCert != null && listen == null) {
            throw new IllegalArgumentException("tlsCert/tlsKey need listen=HOST:PORT: TLS protects TCP; a Unix socket is protected by"
                    + " its file permissions");
        }
    }

    Repository openRepository(CamelContext context) throws IOException {
        RepositoryOptions.Builder options = RepositoryOptions.builder().camelContext(context);
        if (keyFile != null) {
            options.keyFile(Path.of(keyFile));
        }
        if (s3AccessKey != null && s3SecretKey != null) {
            options.s3Credentials(s3AccessKey, s3SecretKey);
        }
        return Repository.open(RepositoryUri.parse(repository), options.build());
    }

    SnapshotManifest findSnapshot(Repository repo) throws IOException {
        return new SnapshotSelection(vm, disk, snapshot).find(repo);
    }

    ServeSession.Options sessionOptions() throws IOException {
        ServerTls tls = tlsCert == null ? null : ServerTls.fromPem(Path.of(tlsCert), Path.of(tlsKey));
        ServeAddress where = null;
        if (socket != null) {
            where = new ServeAddress.Unix(Path.of(socket));
        } else if (listen != null) {
            ServeAddress.Tcp tcp = ServeAddress.parseListen(listen);
            if (tls == null && !tcp.loopback()) {
                throw new IllegalArgumentException("refusing to listen on " + tcp.host() + ": it is not a loopback address, and without"
                        + " tlsCert/tlsKey the disk's data would cross the network in the clear");
            }
            where = tcp;
        }
        return new ServeSession.Options(cacheSize, onto == null ? null : Path.of(onto), where, tls);
    }

    public String getVm() {
        return vm;
    }

    public void setVm(String vm) {
        this.vm = vm;
    }

    public String getDisk() {
        return disk;
    }

    public void setDisk(String disk) {
        this.disk = disk;
    }

    public String getRepository() {
        return repository;
    }

    public void setRepository(String repository) {
        this.repository = repository;
    }

    public String getSnapshot() {
        return snapshot;
    }

    public void setSnapshot(String snapshot) {
        this.snapshot = snapshot;
    }

    public String getSocket() {
        return socket;
    }

    public void setSocket(String socket) {
        this.socket = socket;
    }

    public String getListen() {
        return listen;
    }

    public void setListen(String listen) {
        this.listen = listen;
    }

    public long getCacheSize() {
        return cacheSize;
    }

    public void setCacheSize(long cacheSize) {
        this.cacheSize = cacheSize;
    }

    public String getOnto() {
        return onto;
    }

    public void setOnto(String onto) {
        this.onto = onto;
    }

    public String getKeyFile() {
        return keyFile;
    }

    public void setKeyFile(String keyFile) {
        this.keyFile = keyFile;
    }

    public String getS3AccessKey() {
        return s3AccessKey;
    }

    public void setS3AccessKey(String s3AccessKey) {
        this.s3AccessKey = s3AccessKey;
    }

    public String getS3SecretKey() {
        return s3SecretKey;
    }

    public void setS3SecretKey(String s3SecretKey) {
        this.s3SecretKey = s3SecretKey;
    }

    public String getTlsCert() {
        return tlsCert;
    }

    public void setTlsCert(String tlsCert) {
        this.tlsCert = tlsCert;
    }

    public String getTlsKey() {
        return tlsKey;
    }

    public void setTlsKey(String tlsKey) {
        this.tlsKey = tlsKey;
    }
}
