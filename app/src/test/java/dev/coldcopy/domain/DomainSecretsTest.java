package dev.coldcopy.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.domain.DomainSecrets.Stripped;
import dev.coldcopy.event.BadEventException;
import org.junit.jupiter.api.Test;

class DomainSecretsTest {

    @Test
    void leavesExactlyWhatLibvirtPrintsWithoutSecurityInfo() {
        // libvirt's own answer to "without the secrets", byte for byte: spice and vnc passwords, https cookies
        Stripped s = DomainSecrets.strip(DomainSamples.read("kernel-boot-security-info.xml"));
        assertThat(s.xml()).isEqualTo(DomainSamples.read("kernel-boot.xml"));
        assertThat(s.removed()).containsExactly("disk vdc https cookies", "graphics spice password", "graphics vnc password");

        Stripped uefi = DomainSecrets.strip(DomainSamples.read("uefi-security-info.xml"));
        assertThat(uefi.xml()).isEqualTo(DomainSamples.read("uefi.xml"));
        assertThat(uefi.removed()).containsExactly("graphics vnc password");
    }

    @Test
    void keepsEveryOtherCharacterOfAHandWrittenDomain() {
        String written = DomainSamples.read("uefi-as-written.xml");
        assertThat(written).contains(" passwd='s3cr3t!x'");
        Stripped s = DomainSecrets.strip(written);
        assertThat(s.xml()).isEqualTo(written.replace(" passwd='s3cr3t!x'", ""));
        assertThat(s.removed()).containsExactly("graphics vnc password");
    }

    @Test
    void secretReferencesAndPasswordExpiryAreNoSecrets() {
        String xml = DomainSamples.read("kernel-boot.xml");
        Stripped s = DomainSecrets.strip(xml);
        assertThat(s.xml()).isEqualTo(xml);
        assertThat(s.removed()).isEmpty();
        assertThat(s.xml()).contains("<secret type='ceph' uuid='2ec115d7-3a88-3ceb-bc12-0ac909a6fd87'/>")
                .contains("passwdValidTo='2030-01-01T00:00:00'");
    }

    @Test
    void findsSecretsWhateverTheQuotingLayoutOrEscaping() {
        String xml = """
                <domain type="kvm"><!-- <graphics type='vnc' passwd='in a comment'/> --><name>t</name>
                  <devices>
                    <disk type="network" device="disk"><driver name="qemu" type="raw"/>
                      <source protocol="http" name="/a.img"><host name="h"/>
                        <cookies>
                          <cookie name="a">x1</cookie>
                          <cookie name="b">"y2"</cookie>
                        </cookies></source>
                      <backingStore type="network"><format type="raw"/><source protocol="https" name="/b.img"><host name="h"/><cookies><cookie name="c">z3</cookie></cookies></source></backingStore>
                      <target dev="vdc"/>
                    </disk>
                    <graphics
                        type="rdp"
                        passwd="p&amp;w&lt;d"
                        autoport="yes"/>
                    <graphics type='spice' passwd = 'sp' ><listen type='none'/></graphics>
                    <graphics type='vnc'/>
                    <![CDATA[ <graphics passwd='cdata'/> ]]>
                  </devices>
                </domain>
                """;
        Stripped s = DomainSecrets.strip(xml);
        assertThat(s.removed()).containsExactly("disk vdc http cookies", "disk vdc https cookies",
                "graphics rdp password", "graphics spice password");
        assertThat(s.xml()).doesNotContain("x1", "y2", "z3", "p&amp;w", "'sp'")
                .contains("<!-- <graphics type='vnc' passwd='in a comment'/> -->")   // text, not a setting
                .contains("<graphics\n        type=\"rdp\"\n        autoport=\"yes\"/>")
                .contains("<graphics type='spice' ><listen type='none'/></graphics>")
                .contains("<source protocol=\"http\" name=\"/a.img\"><host name=\"h\"/></source>")
                .contains("<source protocol=\"https\" name=\"/b.img\"><host name=\"h\"/></source>");
        // still the same domain: the disk and its backing chain are intact
        assertThat(DomainDefinition.parse(s.xml()).skipped()).extracting(DomainDisk::describe)
                .containsExactly("vdc network disk (http)");
    }

    @Test
    void refusesWhatIsNotXml() {
        assertThatThrownBy(() -> DomainSecrets.strip("<domain><graphics passwd='x'>")).isInstanceOf(BadEventException.class)
                .hasMessageStartingWith("domainXml is not valid XML");
    }
}
