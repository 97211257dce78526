package dev.coldcopy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coldcopy.testing.QemuImages;
import dev.coldcopy.repository.RepositoryKeys;
import dev.coldcopy.repository.testing.S3MockServer;
import dev.coldcopy.repository.testing.S3ProxyServer;
import dev.coldcopy.repository.testing.SftpServer;
import dev.coldcopy.service.ServiceHarness;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Concurrent first use with real processes: 4 {@code coldcopy backup} JVMs, started together, back up 4
 * VMs (qcow2 images, through qemu-storage-daemon and NBD) into a repository that does not exist yet. Then
 * exactly one repository exists, every image's new checkpoint bitmap carries that repository's id, each
 * snapshot restores identical and verify is clean. One round per backend (the 10-round repetition of
 * the race itself, encrypted and not on every backend, is ConcurrentFirstUseTest in the repository
 * module); here each backend once, two of them encrypted.
 */
class ConcurrentFirstBackupProcessesTest {
    private static final int VMS = 4;
    private static final long MIB = 1 << 20;

    @TempDir
    static Path dir;
    static S3ProxyServer s3proxy;
    static S3MockServer s3mock;
    static SftpServer sftp;
    static Path key;

    @BeforeAll
    static void start() throws Exception {
        s3proxy = S3ProxyServer.start(Files.createDirectories(dir.resolve("s3proxy")));
        s3proxy.createBucket("fleet");
        s3mock = S3MockServer.start(Files.createDirectories(dir.resolve("s3mock")), "fleet");
        sftp = SftpServer.start(Files.createDirectories(dir.resolve("sftp")));
        key = dir.resolve("fleet.key");
        RepositoryKeys.generateKeyFile(key);
    }

    @AfterAll
    static void stop() throws Exception {
        if (s3proxy != null) {
            s3proxy.close();
        }
        if (s3mock != null) {
            s3mock.close();
        }
        if (sftp != null) {
            sftp.close();
        }
    }

    @ParameterizedTest
    @CsvSource({"file,false", "s3proxy,true", "s3mock,false", "sftp,true"})
    void fourProcessesOneRepository(String backend, boolean encrypted) throws Exception {
        Path round = Files.createDirectories(dir.resolve(backend + "-" + encrypted));
        Path images = Files.createDirectories(round.resolve("images"));
        String repo = repositoryUri(backend, round);
        List<String> repoOptions = repositoryOptions(backend, encrypted);
        List<Path> disks = new ArrayList<>();
        List<Process> processes = new ArrayList<>();
        for (int vm = 0; vm < VMS; vm++) {
            Path disk = QemuImages.createQcow2(images.resolve("vm" + vm + ".qcow2"), 8 * MIB);
            ServiceHarness.writeRandom(disk, vm * MIB, (int) (2 * MIB), 100 + vm, round);
            disks.add(disk);
        }
        for (int vm = 0; vm < VMS; vm++) {
            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                    "-cp", System.getProperty("java.class.path"), ColdcopyCommand.class.getName(),
                    "backup", "--repo", repo, "--vm", "vm" + vm, "--disk", "vda=" + disks.get(vm),
                    "--allow-root", images.toString(), "-Dcoldcopy.home=" + round.resolve("home" + vm)));
            command.addAll(repoOptions);
            ProcessBuilder pb = new ProcessBuilder(command)
                    .redirectOutput(round.resolve("out" + vm).toFile())
                    .redirectError(round.resolve("err" + vm).toFile());
            processes.add(pb.start());
        }
        for (int vm = 0; vm < VMS; vm++) {
            Process p = processes.get(vm);
            if (!p.waitFor(240, TimeUnit.SECONDS)) {
                processes.forEach(Process::destroyForcibly);
            }
            assertThat(p.exitValue()).as(backend + " vm" + vm + ": " + Files.readString(round.resolve("err" + vm))).isZero();
            assertThat(Files.readString(round.resolve("out" + vm))).startsWith("vm" + vm + "/vda ").contains(" full ");
        }

        Map<String, String> creds = credentials(backend);
        String readRepo = creds.isEmpty() ? repo : repo + "&accessKey=" + creds.get("access") + "&secretKey=" + creds.get("secret");
        List<String> readOptions = new ArrayList<>(List.of("--repo", readRepo));
        readOptions.addAll(cliRepositoryOptions(backend, encrypted));
        CliRun list = CliRun.coldcopy(concat(List.of("snapshots", "--json"), readOptions));
        assertThat(list.exit()).as(list.err()).isZero();
        assertThat(new ObjectMapper().readTree(list.out())).hasSize(VMS);

        // every process named its checkpoint after the one repository
        Set<String> repositoryIds = new TreeSet<>();
        for (Path disk : disks) {
            for (JsonNode bitmap : bitmaps(disk)) {
                String name = bitmap.path("name").asText();
                if (name.startsWith("coldcopy.")) {
                    repositoryIds.add(name.split("\\.")[1]);
                }
            }
        }
        assertThat(repositoryIds).as("repository ids in the checkpoint names").hasSize(1);

        for (int vm = 0; vm < VMS; vm++) {
            Path out = round.resolve("restored" + vm + ".raw");
            CliRun restore = CliRun.coldcopy(concat(List.of("restore", "--vm", "vm" + vm, "--disk", "vda",
                    "--output", out.toString(), "--format", "raw"), readOptions));
            assertThat(restore.exit()).as(restore.err()).isZero();
            Path expected = QemuImages.convertToRaw(disks.get(vm), round.resolve("expected" + vm + ".raw"));
            assertThat(QemuImages.sha256(out)).as(backend + " vm" + vm + " restores identical").isEqualTo(QemuImages.sha256(expected));
        }
        CliRun verify = CliRun.coldcopy(concat(List.of("verify"), readOptions));
        assertThat(verify.exit()).as(verify.err()).isZero();
    }

    private static JsonNode bitmaps(Path disk) throws Exception {
        Process p = new ProcessBuilder("qemu-img", "info", "--output=json", disk.toString()).redirectErrorStream(true).start();
        String json = new String(p.getInputStream().readAllBytes());
        p.waitFor(60, TimeUnit.SECONDS);
        return new ObjectMapper().readTree(json).path("format-specific").path("data").path("bitmaps");
    }

    private static String[] concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all.toArray(String[]::new);
    }

    private static String repositoryUri(String backend, Path round) {
        String name = round.getFileName().toString();
        return switch (backend) {
            case "file" -> "file:" + round.resolve("repo");
            case "s3proxy" -> s3proxy.repositoryUri("fleet", name).raw();
            case "s3mock" -> s3mock.repositoryUri("fleet", name).raw();
            case "sftp" -> sftp.repositoryUri("srv/fleet/" + name).raw();
            default -> throw new IllegalArgumentException(backend);
        };
    }

    /** options for the backup processes (-D settings, as a user's configuration would give them) */
    private static List<String> repositoryOptions(String backend, boolean encrypted) {
        List<String> o = new ArrayList<>();
        if (encrypted) {
            o.add("--key-file");
            o.add(key.toString());
        }
        if (backend.equals("sftp")) {
            o.add("-Dcoldcopy.repository.sftp.private-key-file=" + sftp.privateKeyFile());
            o.add("-Dcoldcopy.repository.sftp.known-hosts-file=" + sftp.knownHostsFile());
        }
        Map<String, String> creds = credentials(backend);
        if (!creds.isEmpty()) {
            o.add("-Dcoldcopy.repository.s3.access-key=" + creds.get("access"));
            o.add("-Dcoldcopy.repository.s3.secret-key=" + creds.get("secret"));
        }
        return o;
    }

    /** options for the read commands in this JVM (S3 credentials go in the URI: this JVM's environment is not ours to set) */
    private static List<String> cliRepositoryOptions(String backend, boolean encrypted) {
        List<String> o = new ArrayList<>();
        if (encrypted) {
            o.add("--key-file");
            o.add(key.toString());
        }
        if (backend.equals("sftp")) {
            o.addAll(List.of("--sftp-key", sftp.privateKeyFile().toString(), "--known-hosts", sftp.knownHostsFile().toString()));
        }
        return o;
    }

    private static Map<String, String> credentials(String backend) {
        return switch (backend) {
            case "s3proxy" -> Map.of("access", S3ProxyServer.ACCESS_KEY, "secret", S3ProxyServer.SECRET_KEY);
            case "s3mock" -> Map.of("access", S3MockServer.ACCESS_KEY, "secret", S3MockServer.SECRET_KEY);
            default -> Map.of();
        };
    }
}
