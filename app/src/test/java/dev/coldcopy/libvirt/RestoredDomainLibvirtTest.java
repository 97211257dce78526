package dev.coldcopy.libvirt;

import static dev.coldcopy.libvirt.LibvirtHost.virsh;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.domain.DomainDefinition;
import dev.coldcopy.domain.DomainDisk;
import dev.coldcopy.domain.DomainSamples;
import dev.coldcopy.domain.DomainSecrets;
import dev.coldcopy.domain.RestoredDomain;
import dev.coldcopy.domain.RestoredDomain.RestoredDisk;
import dev.coldcopy.restore.RestoreFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * libvirt itself accepts what {@link RestoredDomain} writes: each sample, secrets stripped as a backup
 * stores it, restored under a new name, is defined by libvirtd and read back with the restored paths,
 * the new UUID and new MACs. Needs root and libvirt, as {@link LibvirtVmTest}.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class RestoredDomainLibvirtTest {
    private static final Pattern MAC = Pattern.compile("<mac address='([0-9a-f:]+)'/>");
    private static LibvirtHost host;

    @TempDir
    Path dir;

    @BeforeAll
    static void libvirtUp() {
        host = LibvirtHost.upOrSkip();
    }

    @AfterAll
    static void libvirtDown() {
        if (host != null) {
            host.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"uefi-hook-stdin.xml", "uefi-security-info.xml", "kernel-boot-security-info.xml",
            "nvram-source-inactive.xml"})
    void libvirtDefinesTheRestoredDomain(String sample) throws Exception {
        String stored = DomainSecrets.strip(DomainSamples.read(sample)).xml();
        DomainDefinition original = DomainDefinition.parse(stored);
        Map<String, RestoredDisk> disks = new HashMap<>();
        for (DomainDisk d : original.backedUp()) {
            disks.put(d.target(), new RestoredDisk(dir.resolve(d.target() + ".qcow2"), RestoreFormat.QCOW2));
        }
        Map<String, Path> files = new HashMap<>();
        original.files().forEach(f -> files.put(f.role(), dir.resolve(f.role())));
        byte[] id = new byte[4];
        ThreadLocalRandom.current().nextBytes(id);
        String name = LibvirtHost.DOMAIN_PREFIX + "restored-" + HexFormat.of().formatHex(id);

        String xml = RestoredDomain.xml(stored, disks, files, Optional.of(name));
        Path file = Files.writeString(dir.resolve(name + ".xml"), xml);
        virsh("define", file.toString());
        try {
            String defined = virsh("dumpxml", "--inactive", name);
            DomainDefinition back = DomainDefinition.parse(defined);
            assertThat(back.name()).isEqualTo(name);
            assertThat(back.uuid()).isEqualTo(DomainDefinition.parse(xml).uuid()).isNotEqualTo(original.uuid());
            assertThat(back.backedUp()).allSatisfy(d -> {
                assertThat(d.source()).isEqualTo(dir.resolve(d.target() + ".qcow2"));
                assertThat(d.format()).isEqualTo("qcow2");
            });
            assertThat(back.backedUp()).hasSameSizeAs(original.backedUp());
            assertThat(back.skipped()).extracting(DomainDisk::describe)
                    .containsExactlyElementsOf(original.skipped().stream().map(DomainDisk::describe).toList());
            assertThat(back.files()).allSatisfy(f -> assertThat(f.path()).isEqualTo(dir.resolve(f.role())))
                    .hasSameSizeAs(original.files());
            assertThat(defined).doesNotContain("<backingStore type=").doesNotContain("passwd=");
            List<String> oldMacs = macs(stored);
            assertThat(macs(defined)).hasSameSizeAs(oldMacs).doesNotHaveDuplicates()
                    .allSatisfy(mac -> assertThat(oldMacs).doesNotContain(mac));
        } finally {
            virsh("undefine", name, "--keep-nvram");
        }
    }

    private static List<String> macs(String xml) {
        Matcher m = MAC.matcher(xml);
        return m.results().map(r -> r.group(1)).toList();
    }
}
