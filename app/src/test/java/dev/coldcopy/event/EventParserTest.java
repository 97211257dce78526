package dev.coldcopy.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.domain.DomainDisk;
import dev.coldcopy.domain.DomainSamples;
import dev.coldcopy.domain.HostFileRef;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class EventParserTest {

    private final EventParser parser = new EventParser();

    @Test
    void readsAStoppedEvent() {
        BackupEvent e = parser.parse("""
                {"event":"stopped","vm":"web-1","disks":[{"target":"vda","image":"/vms/web-1.qcow2"},
                 {"target":"vdb","image":"/vms/web-1-data.qcow2"}],"checkpoint":"libvirt-cp1","future":"ignored"}""");
        assertThat(e.vm()).isEqualTo("web-1");
        assertThat(e.disks()).containsExactly(new DiskSpec("vda", Path.of("/vms/web-1.qcow2")),
                new DiskSpec("vdb", Path.of("/vms/web-1-data.qcow2")));
        assertThat(e.checkpoint()).contains("libvirt-cp1");
        assertThat(e.id()).startsWith("evt-");
    }

    @Test
    void oneImageUnderTwoTargetsIsRefused(@TempDir Path dir) throws Exception {
        Path image = java.nio.file.Files.createFile(dir.resolve("web.qcow2"));
        Path link = java.nio.file.Files.createSymbolicLink(dir.resolve("alias.qcow2"), image);
        String same = "{\"event\":\"stopped\",\"vm\":\"web\",\"disks\":[{\"target\":\"vda\",\"image\":\"" + image
                + "\"},{\"target\":\"vdb\",\"image\":\"" + image + "\"}]}";
        assertThatThrownBy(() -> parser.parse(same)).isInstanceOf(BadEventException.class)
                .hasMessage("disks 'vda' and 'vdb' are the same image " + image.toRealPath()
                        + ": a disk can be backed up once per event");
        String viaLink = same.replaceFirst("\"image\":\"" + java.util.regex.Pattern.quote(image.toString()) + "\"}]",
                "\"image\":\"" + link + "\"}]");
        assertThat(viaLink).contains(link.toString());
        assertThatThrownBy(() -> parser.parse(viaLink)).isInstanceOf(BadEventException.class)
                .hasMessageContaining("disks 'vda' and 'vdb' are the same image " + image.toRealPath())
                .hasMessageContaining("(" + image + ", " + link + ")");
        // two different files are fine
        Path other = java.nio.file.Files.createFile(dir.resolve("data.qcow2"));
        assertThat(parser.parse(same.replaceFirst("\"image\":\"" + java.util.regex.Pattern.quote(image.toString()) + "\"}]",
                "\"image\":\"" + other + "\"}]")).disks()).hasSize(2);
    }

    @Test
    void oneImageUnderTwoHardLinksIsRefused(@TempDir Path dir) throws Exception {
        Path image = java.nio.file.Files.createFile(dir.resolve("web.qcow2"));
        Path link = java.nio.file.Files.createLink(dir.resolve("hardlink.qcow2"), image);
        String event = "{\"event\":\"stopped\",\"vm\":\"web\",\"disks\":[{\"target\":\"vda\",\"image\":\"" + image
                + "\"},{\"target\":\"vdb\",\"image\":\"" + link + "\"}]}";
        assertThatThrownBy(() -> parser.parse(event)).isInstanceOf(BadEventException.class)
                .hasMessage("disks 'vda' and 'vdb' are the same image: " + image + " and " + link
                        + " are hard links to one file: a disk can be backed up once per event");
    }

    @Test
    void onlyTheSendersIdMarksARedelivery() {
        String json = "{\"event\":\"stopped\",\"vm\":\"a\",\"disks\":[{\"target\":\"vda\",\"image\":\"/x.qcow2\"}]}";
        assertThat(parser.parse(json).id()).isNotEqualTo(parser.parse(json).id());
        String withId = json.replace("{\"event\"", "{\"id\":\"evt-42\",\"event\"");
        assertThat(parser.parse(withId).id()).isEqualTo("evt-42");
    }

    @Test
    void readsDisksFromDomainXml() {
        String xml = """
                <domain type='kvm'><name>db</name><devices>
                  <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
                    <source file='/vms/db.qcow2'/><target dev='vda' bus='virtio'/></disk>
                  <disk type='file' device='cdrom'><driver name='qemu' type='raw'/>
                    <source file='/iso/debian.iso'/><target dev='sda'/></disk>
                  <disk type='file' device='disk'><driver name='qemu' type='raw'/>
                    <source file='/vms/scratch.img'/><target dev='vdc'/></disk>
                  <disk type='network' device='disk'><driver name='qemu' type='qcow2'/>
                    <source protocol='nbd' name='x'/><target dev='vdd'/></disk>
                </devices></domain>""";
        String json = "{\"event\":\"stopped\",\"domainXml\":" + quote(xml) + "}";
        BackupEvent e = parser.parse(json);
        assertThat(e.vm()).isEqualTo("db");
        // the domain's declared formats go with the disks: a raw disk is never probed
        assertThat(e.disks()).containsExactly(new DiskSpec("vda", Path.of("/vms/db.qcow2"), "qcow2"),
                new DiskSpec("vdc", Path.of("/vms/scratch.img"), "raw"));
        assertThat(e.domain()).hasValueSatisfying(d -> {
            assertThat(d.xml()).isEqualTo(xml);
            assertThat(d.skipped()).extracting(DomainDisk::describe).containsExactly("sda cdrom", "vdd network disk (nbd)");
        });
    }

    @Test
    void readsTheEventOfARealHook() {
        String xml = DomainSamples.read("uefi-hook-stdin.xml");
        BackupEvent e = parser.parse("{\"id\":\"20261202T141043Z-588bf640b44f\",\"event\":\"stopped\",\"vm\":\"coldcopy-test-uefi\","
                + "\"time\":\"20261202T141043Z\",\"domainXml\":" + quote(xml) + "}");
        assertThat(e.id()).isEqualTo("20261202T141043Z-588bf640b44f");
        assertThat(e.disks()).containsExactly(new DiskSpec("vda", Path.of("/tmp/domxml/web.qcow2"), "qcow2"),
                new DiskSpec("vdb", Path.of("/tmp/domxml/data.img"), "raw"));
        assertThat(e.domain().orElseThrow().files()).extracting(HostFileRef::role).containsExactly(HostFileRef.NVRAM);
    }

    @Test
    void theEventsDisksWinButTheDomainIsRecorded() {
        String xml = "<domain><name>db</name><devices><disk type='file' device='disk'><driver type='qcow2'/>"
                + "<source file='/vms/db.qcow2'/><target dev='vda'/></disk></devices></domain>";
        BackupEvent e = parser.parse("{\"event\":\"stopped\",\"vm\":\"db\",\"disks\":[{\"target\":\"vdb\",\"image\":\"/vms/other.qcow2\"}],"
                + "\"domainXml\":" + quote(xml) + "}");
        assertThat(e.disks()).containsExactly(new DiskSpec("vdb", Path.of("/vms/other.qcow2")));
        assertThat(e.domain()).hasValueSatisfying(d -> assertThat(d.backedUp()).extracting(DomainDisk::target).containsExactly("vda"));
        // without domainXml there is no domain
        assertThat(parser.parse("{\"event\":\"stopped\",\"vm\":\"db\",\"disks\":[{\"target\":\"vdb\",\"image\":\"/vms/o.qcow2\"}]}")
                .domain()).isEmpty();
    }

    static Stream<Arguments> badEvents() {
        String disk = "[{\"target\":\"vda\",\"image\":\"/vms/a.qcow2\"}]";
        return Stream.of(
                Arguments.of("", "event is empty"),
                Arguments.of("{\"event\":\"stopped\",", "not valid JSON"),
                Arguments.of("[1,2]", "must be a JSON object, not an array"),
                Arguments.of("{\"event\":\"stopped\",\"vm\":\"a\",\"disks\":" + disk + "} trailing", "not valid JSON"),
                Arguments.of("{\"vm\":\"a\",\"disks\":" + disk + "}", "has no 'event'"),
                Arguments.of("{\"event\":\"started\",\"vm\":\"a\",\"disks\":" + disk + "}", "'started' is not handled"),
                Arguments.of("{\"event\":\"stopped\",\"disks\":" + disk + "}", "has no 'vm'"),
                Arguments.of("{\"event\":\"stopped\",\"vm\":42,\"disks\":" + disk + "}", "'vm' must be a string, not a number"),
                Arguments.of("{\"event\":\"stopped\",\"vm\":\"a;rm -rf /\",\"disks\":" + disk + "}", "refused VM name 'a;rm -rf /': contains the shell metacharacter"),
                Arguments.of("{\"event\":\"stopped\",\"vm\":\"$(reboot)\",\"disks\":" + disk + "}", "refused VM name '$(reboot)'"),
                Arguments.of("{\"event\":\"stopped\",\"vm\":\"a\"}", "has no 'disks'"),
                Arguments.of("{\"event\":\"stopped\",\"vm\":\"a\",\"disks\":[]}", "lists no disks"),
                Arguments.of("{\"event\":\"stopped\",\"vm\":\"a\",\"disks\":{\"vda\":\"/x\"}}", "'disks' must be an array, not an object"),
                Arguments.of("{\"event\":\"stopped\",\"vm\":\"a\",\"disks\":[\"/vms/a.qcow2\"]}", "disks[0] must be an object"),
                Arguments.of("{\"event\":\"stopped\",\"vm\":\"a\",\"disks\":[{\"image\":\"/vms/a.qcow2\"}]}", "disks[0] has no 'target'"),
                Arguments.of("{\"event\":\"stopped\",\"vm\":\"a\",\"disks\":[{\"target\":\"vda\"}]}", "disks[0] has no 'image'"),
                Arguments.of("{\"event\":\"stopped\",\"vm\":\"a\",\"disks\":[{\"target\":\"vda\",\"image\":7}]}", "'image' must be a string, not a number"),
                Arguments.of("{\"event\":\"stopped\",\"vm\":\"a\",\"disks\":[{\"target\":\"../x\",\"image\":\"/a\"}]}", "refused disk target '../x'"),
                Arguments.of("{\"event\":\"stopped\",\"vm\":\"a\",\"disks\":[{\"target\":\"vda\",\"image\":\"vms/a.qcow2\"}]}", "must be absolute"),
                Arguments.of("{\"event\":\"stopped\",\"vm\":\"a\",\"disks\":[{\"target\":\"vda\",\"image\":\"/vms/../etc/shadow\"}]}", "must not contain '.' or '..'"),
                Arguments.of("{\"event\":\"stopped\",\"vm\":\"a\",\"disks\":[{\"target\":\"vda\",\"image\":\"/a\"},{\"target\":\"vda\",\"image\":\"/b\"}]}", "appears twice"),
                Arguments.of("{\"event\":\"stopped\",\"vm\":\"a\",\"disks\":" + disk + ",\"checkpoint\":\"x y\"}", "refused checkpoint name 'x y'"),
                Arguments.of("{\"event\":\"stopped\",\"vm\":\"a\",\"disks\":" + disk + ",\"checkpoint\":[]}", "'checkpoint' must be a string"),
                Arguments.of("{\"event\":\"stopped\",\"vm\":\"a\",\"vm\":\"b\",\"disks\":" + disk + "}", "Duplicate field 'vm'"),
                Arguments.of("{\"event\":\"stopped\",\"domainXml\":\"<domain><name>x</name>\"}", "domainXml is not valid XML"),
                Arguments.of("{\"event\":\"stopped\",\"domainXml\":" + quote("<!DOCTYPE d [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><domain><name>&e;</name></domain>") + "}", "domainXml is not valid XML"),
                Arguments.of("{\"event\":\"stopped\",\"vm\":\"b\",\"domainXml\":\"<domain><name>x</name></domain>\"}", "is for 'x'"),
                Arguments.of("{\"event\":\"stopped\",\"domainXml\":" + quote("<domain><name>x</name><devices>"
                        + "<disk type='file' device='cdrom'><target dev='hdc'/><readonly/></disk>"
                        + "<disk type='network'><driver type='raw'/><source protocol='rbd' name='p/i'/><target dev='vdb'/></disk>"
                        + "</devices></domain>") + "}", "no disk to back up: hdc cdrom, vdb network disk (rbd)"),
                Arguments.of("{\"event\":\"stopped\",\"domainXml\":\"<domain><name>x</name></domain>\"}",
                        "no disk to back up: the domain has no disks"),
                Arguments.of("{\"event\":\"stopped\",\"domainXml\":" + quote("<domain><name>x</name><devices>"
                        + "<disk type='file'><source file='x.qcow2'/><target dev='vda'/></disk></devices></domain>") + "}",
                        "domainXml disk vda: image path 'x.qcow2' must be absolute"),
                Arguments.of("{\"event\":\"stopped\",\"domainXml\":42}", "'domainXml' must be a string, not a number"),
                Arguments.of("{\"event\":\"stopped\",\"id\":\"../../x\",\"vm\":\"a\",\"disks\":" + disk + "}", "event id '../../x' is not allowed"));
    }

    @ParameterizedTest
    @MethodSource("badEvents")
    void refusesBadEventsWithOneLineReason(String json, String reason) {
        assertThatThrownBy(() -> parser.parse(json))
                .isInstanceOf(BadEventException.class)
                .hasMessageContaining(reason)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void refusesOversizeEvents() {
        byte[] big = new byte[EventParser.MAX_EVENT_BYTES + 1];
        assertThatThrownBy(() -> parser.parse(big)).hasMessageContaining("more than the");
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }
}
