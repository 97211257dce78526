package dev.coldcopy.repository;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.camel.CamelContext;

/**
 * How to open (or initialise) a repository. Immutable; build with {@link #builder()}. Secrets (S3 keys)
 * are held here only, never printed: {@link #toString()} hides them.
 */
public final class RepositoryOptions {
    public static final int DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024;
    public static final int DEFAULT_ZSTD_LEVEL = 1;

    private final Path keyFile;
    private final Integer zstdLevel;
    private final int chunkSize;
    private final CamelContext camelContext;
    private final int parallelism;
    private final String s3AccessKey;
    private final String s3SecretKey;
    private final Path sftpPrivateKeyFile;
    private final Path sftpKnownHostsFile;
    private final boolean sftpStrictHostKeyChecking;
    private final boolean durableWrites;
    private final Map<String, String> s3Settings;
    private final dev.coldcopy.repository.lock.LockTimings lockTimings;

    private RepositoryOptions(Builder b) {
        this.keyFile = b.keyFile;
        this.zstdLevel = b.zstdLevel;
        this.chunkSize = b.chunkSize;
        this.camelContext = b.camelContext;
        this.parallelism = b.parallelism;
        this.s3AccessKey = b.s3AccessKey;
        this.s3SecretKey = b.s3SecretKey;
        this.sftpPrivateKeyFile = b.sftpPrivateKeyFile;
        this.sftpKnownHostsFile = b.sftpKnownHostsFile;
        this.sftpStrictHostKeyChecking = b.sftpStrictHostKeyChecking;
        this.durableWrites = b.durableWrites;
        this.s3Settings = Map.copyOf(b.s3Settings);
        this.lockTimings = b.lockTimings;
    }

    public static Builder builder() {
        return new Builder();
    }

    public static RepositoryOptions defaults() {
        return builder().build();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.keyFile = keyFile;
        b.zstdLevel = zstdLevel;
        b.chunkSize = chunkSize;
        b.camelContext = camelContext;
        b.parallelism = parallelism;
        b.s3AccessKey = s3AccessKey;
        b.s3SecretKey = s3SecretKey;
        b.sftpPrivateKeyFile = sftpPrivateKeyFile;
        b.sftpKnownHostsFile = sftpKnownHostsFile;
        b.sftpStrictHostKeyChecking = sftpStrictHostKeyChecking;
        b.durableWrites = durableWrites;
        b.s3Settings = new LinkedHashMap<>(s3Settings);
        b.lockTimings = lockTimings;
        return b;
    }

    /** the key file of an encrypted repository (given at init: the repository is encrypted) */
    public Optional<Path> keyFile() {
        return Optional.ofNullable(keyFile);
    }

    /** zstd level for new chunks; empty: the repository's configured level */
    public Optional<Integer> zstdLevel() {
        return Optional.ofNullable(zstdLevel);
    }

    /** nominal chunk size, used at init only (an opened repository keeps its own) */
    public int chunkSize() {
        return chunkSize;
    }

    /** the CamelContext to deliver through; empty: the repository starts (and stops) its own */
    public Optional<CamelContext> camelContext() {
        return Optional.ofNullable(camelContext);
    }

    /** threads that hash, compress, encrypt and store chunks (and fetch them on restore) */
    public int parallelism() {
        return parallelism;
    }

    public Optional<String> s3AccessKey() {
        return Optional.ofNullable(s3AccessKey);
    }

    public Optional<String> s3SecretKey() {
        return Optional.ofNullable(s3SecretKey);
    }

    public Optional<Path> sftpPrivateKeyFile() {
        return Optional.ofNullable(sftpPrivateKeyFile);
    }

    public Optional<Path> sftpKnownHostsFile() {
        return Optional.ofNullable(sftpKnownHostsFile);
    }

    /** Whether a file repository fsyncs every object it writes (and its directory) before the write returns. */
    public boolean durableWrites() {
        return durableWrites;
    }

    public boolean sftpStrictHostKeyChecking() {
        return sftpStrictHostKeyChecking;
    }

    /**
     * S3 client settings from configuration ({@code coldcopy.repository.s3.NAME} without the prefix:
     * checksum, pathStyle, chunkedEncoding, verify, multipartThreshold, partSize); a URI parameter of the
     * same name wins. See {@link dev.coldcopy.repository.backend.S3Settings}.
     */
    public Map<String, String> s3Settings() {
        return s3Settings;
    }

    /** how long locks and leases live; empty: the defaults (or the {@code coldcopy.lock.*} system properties) */
    public Optional<dev.coldcopy.repository.lock.LockTimings> lockTimings() {
        return Optional.ofNullable(lockTimings);
    }

    @Override
    public String toString() {
        return "RepositoryOptions[keyFile=" + keyFile + ", zstdLevel=" + zstdLevel + ", chunkSize=" + chunkSize
                + ", parallelism=" + parallelism + ", s3AccessKey=" + (s3AccessKey == null ? "none" : "xxxxxx")
                + ", sftpPrivateKeyFile=" + sftpPrivateKeyFile + ", sftpKnownHostsFile=" + sftpKnownHostsFile
                + ", sftpStrictHostKeyChecking=" + sftpStrictHostKeyChecking + "]";
    }

    public static final class Builder {
        private Path keyFile;
        private Integer zstdLevel;
        private int chunkSize = DEFAULT_CHUNK_SIZE;
        private CamelContext camelContext;
        private int parallelism = Math.max(2, Runtime.getRuntime().availableProcessors());
        private String s3AccessKey;
        private String s3SecretKey;
        private Path sftpPrivateKeyFile;
        private Path sftpKnownHostsFile;
        private boolean sftpStrictHostKeyChecking = true;
        private boolean durableWrites = true;
        private Map<String, String> s3Settings = new LinkedHashMap<>();
        private dev.coldcopy.repository.lock.LockTimings lockTimings;

        public Builder keyFile(Path keyFile) {
            this.keyFile = keyFile;
            return this;
        }

        public Builder zstdLevel(int level) {
            if (level < 0 || level > 22) {
                throw new IllegalArgumentException("zstd level must be 0 (store) to 22, got " + level);
            }
            this.zstdLevel = level;
            return this;
        }

        public Builder chunkSize(int chunkSize) {
            if (chunkSize < 64 * 1024 || chunkSize > 64 * 1024 * 1024 || Integer.bitCount(chunkSize) != 1) {
                throw new IllegalArgumentException("chunk size must be a power of two from 64 KiB to 64 MiB, got " + chunkSize);
            }
            this.chunkSize = chunkSize;
            return this;
        }

        public Builder camelContext(CamelContext camelContext) {
            this.camelContext = camelContext;
            return this;
        }

        public Builder parallelism(int parallelism) {
            if (parallelism < 1) {
                throw new IllegalArgumentException("parallelism must be at least 1");
            }
            this.parallelism = parallelism;
            return this;
        }

        /** S3 credentials; without them: accessKey/secretKey URI parameters, else the AWS default chain (env, profile) */
        public Builder s3Credentials(String accessKey, String secretKey) {
            this.s3AccessKey = accessKey;
            this.s3SecretKey = secretKey;
            return this;
        }

        public Builder sftpPrivateKeyFile(Path file) {
            this.sftpPrivateKeyFile = file;
            return this;
        }

        public Builder sftpKnownHostsFile(Path file) {
            this.sftpKnownHostsFile = file;
            return this;
        }

        /** true by default: the server's host key must be in known_hosts */
        /**
         * A file repository fsyncs each chunk, manifest and its directory before the write returns (default
         * true), so a snapshot is on disk before its checkpoint advances; false leaves that to the kernel.
         */
        public Builder durableWrites(boolean durable) {
            this.durableWrites = durable;
            return this;
        }

        public Builder sftpStrictHostKeyChecking(boolean strict) {
            this.sftpStrictHostKeyChecking = strict;
            return this;
        }

        /** one S3 client setting (see {@link RepositoryOptions#s3Settings()}) */
        public Builder s3Setting(String name, String value) {
            this.s3Settings.put(name, value);
            return this;
        }

        /** lock and lease timings of this process (tests shorten them to see leases expire) */
        public Builder lockTimings(dev.coldcopy.repository.lock.LockTimings timings) {
            this.lockTimings = timings;
            return this;
        }

        public RepositoryOptions build() {
            return new RepositoryOptions(this);
        }
    }
}
