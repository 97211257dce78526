package dev.coldcopy.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.coldcopy.qemu.BackingChain;
import dev.coldcopy.qemu.ChainInspector;
import dev.coldcopy.qemu.ImageLayer;
import dev.coldcopy.qemu.QemuTools;

/**
 * Refusals happen before any program runs: the inspector here is wired to qemu binaries that do not exist,
 * so had anything been executed the error would be "could not be started", not the refusal.
 */
class ImagePolicyTest {

    @TempDir
    Path tmp;
    Path root;
    Path outside;
    ChainInspector inspector;

    @BeforeEach
    void setUp() throws Exception {
        root = Files.createDirectory(tmp.resolve("images"));
        outside = Files.createDirectory(tmp.resolve("elsewhere"));
        QemuTools nothing = new QemuTools("/nonexistent/qemu-img", "/nonexistent/qemu-io", "/nonexistent/qemu-nbd",
                "/nonexistent/qemu-storage-daemon", Duration.ofSeconds(5));
        inspector = new ChainInspector(nothing, new ImagePolicy(List.of(root)));
    }

    @Test
    void missingImageIsRefusedWithoutRunningAnything() {
        assertThatThrownBy(() -> inspector.inspect(root.resolve("nope.qcow2")))
                .isInstanceOf(ImageNotFoundException.class)
                .hasMessage("image " + root.resolve("nope.qcow2") + " does not exist");
    }

    @Test
    void imageOutsideTheRootsIsRefused() throws Exception {
        Path img = Files.writeString(outside.resolve("disk.qcow2"), "x");
        assertThatThrownBy(() -> inspector.inspect(img)).isInstanceOf(ImageRefusedException.class)
                .hasMessageContaining("outside the allowed roots");
    }

    @Test
    void dotDotOutOfTheRootIsRefused() throws Exception {
        Files.writeString(outside.resolve("disk.qcow2"), "x");
        Path sneaky = root.resolve("../elsewhere/disk.qcow2");
        assertThatThrownBy(() -> inspector.inspect(sneaky)).isInstanceOf(ImageRefusedException.class)
                .hasMessageContaining("outside the allowed roots");
    }

    @Test
    void symlinkEscapingTheRootsIsRefused() throws Exception {
        Path target = Files.writeString(outside.resolve("secret.qcow2"), "x");
        Path link = Files.createSymbolicLink(root.resolve("disk.qcow2"), target);
        assertThatThrownBy(() -> inspector.inspect(link)).isInstanceOf(ImageRefusedException.class)
                .hasMessageContaining("resolves to " + target.toRealPath())
                .hasMessageContaining("outside the allowed roots");
    }

    @Test
    void symlinkInsideTheRootsResolvesToTheRealFile() throws Exception {
        Path target = Files.writeString(root.resolve("real.qcow2"), "x");
        Path link = Files.createSymbolicLink(root.resolve("link.qcow2"), target);
        assertThat(new ImagePolicy(List.of(root)).validate(link)).isEqualTo(target.toRealPath());
    }

    @Test
    void shellMetacharactersInThePathAreRefused() throws Exception {
        Path evil = Files.writeString(root.resolve("a;rm -rf x.qcow2"), "x");
        assertThatThrownBy(() -> inspector.inspect(evil)).isInstanceOf(ImageRefusedException.class)
                .hasMessageContaining("shell metacharacter ';'");
        assertThatThrownBy(() -> new ImagePolicy(List.of(root)).validate(root + "/$(reboot).qcow2"))
                .isInstanceOf(ImageRefusedException.class).hasMessageContaining("shell metacharacter '$'");
        assertThatThrownBy(() -> new ImagePolicy(List.of(root)).validate(root + "/a\nb.qcow2"))
                .isInstanceOf(ImageRefusedException.class).hasMessageContaining("shell metacharacter newline");
    }

    @Test
    void relativePathsAndDirectoriesAreRefused() throws Exception {
        assertThatThrownBy(() -> inspector.inspect(Path.of("disk.qcow2"))).isInstanceOf(ImageRefusedException.class)
                .hasMessageContaining("not absolute");
        Path dir = Files.createDirectory(root.resolve("dir"));
        assertThatThrownBy(() -> inspector.inspect(dir)).isInstanceOf(ImageRefusedException.class)
                .hasMessageContaining("not a regular file");
    }

    @Test
    void namesWithShellMetacharactersAreRefused() {
        assertThat(Names.vmName("web-01.prod")).isEqualTo("web-01.prod");
        assertThat(Names.diskTarget("vda")).isEqualTo("vda");
        assertThat(Names.checkpoint("virtnbdbackup.3")).isEqualTo("virtnbdbackup.3");
        assertThatThrownBy(() -> Names.vmName("web;reboot")).isInstanceOf(NameRefusedException.class)
                .hasMessage("refused VM name 'web;reboot': contains the shell metacharacter ';'");
        assertThatThrownBy(() -> Names.diskTarget("vda`id`")).isInstanceOf(NameRefusedException.class)
                .hasMessageContaining("'`'");
        assertThatThrownBy(() -> Names.checkpoint("cp $(x)")).isInstanceOf(NameRefusedException.class)
                .hasMessageContaining("space");
        assertThatThrownBy(() -> Names.checkpoint("--remove")).isInstanceOf(NameRefusedException.class)
                .hasMessageContaining("must not start with '-'");
        assertThatThrownBy(() -> Names.vmName("")).isInstanceOf(NameRefusedException.class);
    }

    /** {@code root/dirlink/../disk.qcow2} with {@code dirlink} pointing outside: judged where the kernel goes. */
    @Test
    void dotDotAfterASymlinkedDirectoryIsJudgedAfterTheLink() throws Exception {
        Path deeper = Files.createDirectories(outside.resolve("deeper"));
        Files.createSymbolicLink(root.resolve("dirlink"), deeper);
        Files.writeString(root.resolve("disk.qcow2"), "decoy");
        Files.writeString(outside.resolve("disk.qcow2"), "x");
        ImagePolicy policy = new ImagePolicy(List.of(root));
        assertThatThrownBy(() -> policy.validate(root.resolve("dirlink/../disk.qcow2"))).isInstanceOf(ImageRefusedException.class)
                .hasMessageContaining("resolves to " + outside.toRealPath().resolve("disk.qcow2"))
                .hasMessageContaining("outside the allowed roots");
        assertThatThrownBy(() -> policy.validate(root.resolve("dirlink/../missing.qcow2"))).isInstanceOf(ImageRefusedException.class)
                .isNotInstanceOf(ImageNotFoundException.class)
                .hasMessageContaining("outside the allowed roots");
    }
}
