package dev.coldcopy.libvirt;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coldcopy.domain.DomainDisk;
import dev.coldcopy.domain.DomainSamples;
import dev.coldcopy.event.BackupEvent;
import dev.coldcopy.event.DiskSpec;
import dev.coldcopy.event.EventParser;
import dev.coldcopy.testing.Tools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The libvirt hook script ({@code config/libvirt/hooks/qemu}) as libvirt runs it: arguments, the domain
 * XML on stdin, a clean environment; its event read back by the service's parser. No libvirtd needed
 * (LibvirtVmTest runs it under a real one).
 */
class LibvirtHookScriptTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    Path spool;

    @BeforeEach
    void python() {
        Assumptions.assumeTrue(Tools.available("python3"), "python3 is not installed (bin/setup --test installs it)");
        spool = dir.resolve("spool");
    }

    @Test
    void stoppedEndQueuesTheDomainXmlForTheServiceToClassify() throws Exception {
        String xml = DomainSamples.read("uefi-hook-stdin.xml");
        Run run = hook(xml.getBytes(StandardCharsets.UTF_8), "coldcopy-test-uefi", "stopped", "end", "-");
        assertThat(run.exit).isZero();
        List<Path> files = spoolFiles();
        assertThat(files).singleElement().satisfies(f -> assertThat(f.getFileName().toString())
                .matches("\\d{8}T\\d{6}Z-[0-9a-f]{12}\\.json"));
        assertThat(run.stderr).contains("queued backup of coldcopy-test-uefi as " + files.get(0));

        byte[] raw = Files.readAllBytes(files.get(0));
        JsonNode event = JSON.readTree(raw);
        assertThat(event.get("event").asText()).isEqualTo("stopped");
        assertThat(event.get("vm").asText()).isEqualTo("coldcopy-test-uefi");
        assertThat(event.get("id").asText() + ".json").isEqualTo(files.get(0).getFileName().toString());
        assertThat(event.get("time").asText()).matches("\\d{8}T\\d{6}Z");
        assertThat(event.get("domainXml").asText()).isEqualTo(xml);
        assertThat(event.has("disks")).as("the service picks the disks, not the hook").isFalse();

        BackupEvent parsed = new EventParser().parse(raw);
        assertThat(parsed.id()).isEqualTo(event.get("id").asText());
        assertThat(parsed.disks()).containsExactly(new DiskSpec("vda", Path.of("/tmp/domxml/web.qcow2"), "qcow2"),
                new DiskSpec("vdb", Path.of("/tmp/domxml/data.img"), "raw"));
        assertThat(parsed.domain().orElseThrow().skipped()).extracting(DomainDisk::describe).containsExactly("sda cdrom");
    }

    @Test
    void otherCallsAreIgnored() throws Exception {
        byte[] xml = DomainSamples.read("uefi-hook-stdin.xml").getBytes(StandardCharsets.UTF_8);
        for (List<String> args : List.of(List.of("web", "prepare", "begin", "-"), List.of("web", "started", "begin", "-"),
                List.of("web", "stopped", "begin", "-"), List.of("web", "release", "end", "-"), List.of("web"))) {
            Run run = hook(xml, args.toArray(String[]::new));
            assertThat(run.exit).as("%s", args).isZero();
            assertThat(run.stderr).as("%s", args).isEmpty();
        }
        assertThat(spool).doesNotExist();
    }

    @Test
    void problemsGoToStderrAndNeverFailLibvirt() throws Exception {
        Run empty = hook(new byte[0], "web", "stopped", "end", "-");
        assertThat(empty.exit).isZero();
        assertThat(empty.stderr).contains("coldcopy hook: libvirt gave no domain XML for web, nothing to back up");
        assertThat(spool).doesNotExist();

        Run notUtf8 = hook(new byte[] {'<', 'd', (byte) 0xff, '>'}, "web", "stopped", "end", "-");
        assertThat(notUtf8.exit).isZero();
        assertThat(notUtf8.stderr).contains("coldcopy hook: could not queue the backup:").contains("utf-8");
        assertThat(spool).doesNotExist();

        Files.writeString(spool, "a file where the spool directory should be");
        Run blocked = hook("<domain/>".getBytes(StandardCharsets.UTF_8), "web", "stopped", "end", "-");
        assertThat(blocked.exit).isZero();
        assertThat(blocked.stderr).startsWith("coldcopy hook: could not queue the backup:");
        assertThat(Files.readString(spool)).isEqualTo("a file where the spool directory should be");
    }

    @Test
    void aFailedWriteLeavesNoTemporaryFile() throws Exception {
        Assumptions.assumeTrue(Tools.available("prlimit"), "prlimit (util-linux) is not installed");
        // a full disk, as the hook sees one: files may not grow past 1 KiB (python ignores SIGXFSZ, so the
        // write fails with EFBIG instead of killing it)
        byte[] xml = DomainSamples.read("uefi-hook-stdin.xml").getBytes(StandardCharsets.UTF_8);
        Run run = hook(xml, List.of("prlimit", "--fsize=1024"), Map.of("COLDCOPY_SPOOL", spool.toString()),
                "web", "stopped", "end", "-");
        assertThat(run.exit).isZero();
        assertThat(run.stderr).startsWith("coldcopy hook: could not queue the backup:").contains("File too large");
        assertThat(spoolFiles()).as("neither the event nor its temporary file").isEmpty();
    }

    private List<Path> spoolFiles() throws IOException {
        try (Stream<Path> files = Files.list(spool)) {
            return files.sorted().toList();
        }
    }

    private record Run(int exit, String stderr) {}

    private Run hook(byte[] stdin, String... args) throws Exception {
        return hook(stdin, List.of(), Map.of("COLDCOPY_SPOOL", spool.toString()), args);
    }

    /** Runs the hook as libvirt does: a clean environment, the XML on stdin. */
    private Run hook(byte[] stdin, List<String> wrapper, Map<String, String> env, String... args) throws Exception {
        Path script = projectRoot().resolve("config/libvirt/hooks/qemu");
        Path in = Files.write(dir.resolve("stdin-" + System.nanoTime()), stdin);
        Path err = dir.resolve("stderr-" + System.nanoTime());
        List<String> command = Stream.of(wrapper.stream(), Stream.of("python3", script.toString()), Stream.of(args))
                .flatMap(s -> s).toList();
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectInput(in.toFile()).redirectError(err.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        String path = pb.environment().get("PATH");
        pb.environment().clear();
        pb.environment().put("PATH", path);
        pb.environment().put("COLDCOPY_HOOK_CONF", dir.resolve("no-such-hook.conf").toString());
        pb.environment().putAll(env);
        Process p = pb.start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("the hook finishes").isTrue();
        return new Run(p.exitValue(), Files.readString(err));
    }

    private static Path projectRoot() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("config/libvirt/hooks/qemu"))) {
                return d;
            }
        }
        throw new IllegalStateException("config/libvirt/hooks/qemu not found above " + Path.of("").toAbsolutePath());
    }
}
