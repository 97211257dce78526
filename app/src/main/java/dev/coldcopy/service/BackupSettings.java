package dev.coldcopy.service;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.camel.CamelContext;

/**
 * The settings a backup needs, read once from the service configuration (see
 * {@code config/application.properties} for what each one means).
 */
public record BackupSettings(
        List<Path> allowedRoots,
        List<Path> allowedFileRoots,
        Path workDir,
        String repository,
        int compressionLevel,
        boolean fsync,
        Optional<Path> keyFile,
        Optional<Path> sftpPrivateKeyFile,
        Optional<Path> sftpKnownHostsFile,
        Optional<String> s3AccessKey,
        Optional<String> s3SecretKey,
        String exportWay,
        Duration diskLockWait,
        Map<String, String> s3Settings) {

    /** the S3 client settings read from {@code coldcopy.repository.s3.NAME} (see S3Settings) */
    public static final List<String> S3_SETTINGS = List.of("checksum", "path-style", "chunked-encoding", "verify",
            "multipart-threshold", "part-size");

    public static BackupSettings from(CamelContext camel) {
        return new BackupSettings(
                paths(camel.resolvePropertyPlaceholders("{{coldcopy.allowed-roots}}")),
                paths(camel.resolvePropertyPlaceholders("{{coldcopy.allowed-file-roots:}}")),
                Path.of(camel.resolvePropertyPlaceholders("{{coldcopy.work.dir}}")),
                camel.resolvePropertyPlaceholders("{{coldcopy.repository}}"),
                Integer.parseInt(camel.resolvePropertyPlaceholders("{{coldcopy.repository.compression-level:3}}")),
                Boolean.parseBoolean(camel.resolvePropertyPlaceholders("{{coldcopy.repository.fsync:true}}")),
                optionalPath(camel, "coldcopy.repository.key-file"),
                optionalPath(camel, "coldcopy.repository.sftp.private-key-file"),
                optionalPath(camel, "coldcopy.repository.sftp.known-hosts-file"),
                optionalText(camel, "coldcopy.repository.s3.access-key"),
                optionalText(camel, "coldcopy.repository.s3.secret-key"),
                camel.resolvePropertyPlaceholders("{{coldcopy.export.way:storage-daemon}}"),
                Duration.ofSeconds(Long.parseLong(camel.resolvePropertyPlaceholders("{{coldcopy.disk-lock.wait-seconds:600}}"))),
                s3Settings(camel));
    }

    private static Map<String, String> s3Settings(CamelContext camel) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String name : S3_SETTINGS) {
            optionalText(camel, "coldcopy.repository.s3." + name).ifPresent(v -> out.put(name, v));
        }
        return out;
    }

    private static Optional<Path> optionalPath(CamelContext camel, String key) {
        return optionalText(camel, key).map(Path::of);
    }

    private static Optional<String> optionalText(CamelContext camel, String key) {
        String value = camel.resolvePropertyPlaceholders("{{" + key + ":}}").strip();
        return value.isEmpty() ? Optional.empty() : Optional.of(value);
    }

    /** Never print the S3 secret: records print every component. */
    @Override
    public String toString() {
        return "BackupSettings[allowedRoots=" + allowedRoots + ", allowedFileRoots=" + allowedFileRoots + ", workDir=" + workDir + ", repository=" + repository
                + ", exportWay=" + exportWay + ", s3AccessKey=" + (s3AccessKey.isPresent() ? "xxxxxx" : "none") + "]";
    }

    static List<Path> paths(String commaSeparated) {
        return Arrays.stream(commaSeparated.split(","))
                .map(String::strip)
                .filter(s -> !s.isEmpty())
                .map(Path::of)
                .toList();
    }
}
