package dev.coldcopy.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Which image files coldcopy may touch: regular files under one of the configured allowed roots, judged
 * after resolving every symlink (so a link inside a root that points outside is refused). Checked before
 * any qemu program sees the path, and again for every backing file qemu reports.
 */
public final class ImagePolicy {

    private final List<Path> roots;

    /** @param allowedRoots directories; each must exist (resolved to its real path now). */
    public ImagePolicy(List<Path> allowedRoots) {
        if (allowedRoots == null || allowedRoots.isEmpty()) {
            throw new IllegalArgumentException("no allowed image roots configured");
        }
        List<Path> real = new ArrayList<>();
        for (Path root : allowedRoots) {
            try {
                Path r = root.toAbsolutePath().toRealPath();
                if (!Files.isDirectory(r)) {
                    throw new IllegalArgumentException("allowed root " + root + " is not a directory");
                }
                real.add(r);
            } catch (IOException e) {
                throw new IllegalArgumentException("allowed root " + root + " does not exist", e);
            }
        }
        this.roots = List.copyOf(real);
    }

    public List<Path> allowedRoots() {
        return roots;
    }

    /** @return the real path of {@code image}. */
    public Path validate(Path image) {
        if (image == null) {
            throw new ImageRefusedException("no image path given");
        }
        String text = image.toString();
        int meta = Names.firstMeta(text);
        if (meta >= 0) {
            throw new ImageRefusedException("refused image path '" + Names.printable(text)
                    + "': contains the shell metacharacter " + Names.describe(text.charAt(meta)));
        }
        if (!image.isAbsolute()) {
            throw new ImageRefusedException("refused image path '" + text + "': not absolute");
        }
        Path real;
        try {
            real = image.toRealPath();
        } catch (NoSuchFileException e) {
            throw missing(image);
        } catch (IOException e) {
            throw new ImageRefusedException("image " + text + " cannot be resolved: " + e.getMessage());
        }
        if (roots.stream().noneMatch(real::startsWith)) {
            throw new ImageRefusedException("refused image " + text
                    + (real.toString().equals(text) ? "" : " (resolves to " + real + ")")
                    + ": outside the allowed roots " + roots);
        }
        if (!Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) {
            throw new ImageRefusedException("refused image " + text + ": not a regular file");
        }
        return real;
    }

    /**
     * A path that does not resolve: "does not exist" only if its directory, resolved the way the kernel
     * would (symlinks before ".."), lies inside the roots; otherwise it is refused for its place, so the
     * answer neither says what exists outside the roots nor hides that the name points out of them.
     */
    private ImageRefusedException missing(Path image) {
        Path parent = image.getParent();
        if (parent != null) {
            try {
                Path realParent = parent.toRealPath();
                if (roots.stream().noneMatch(realParent::startsWith)) {
                    return new ImageRefusedException("refused image " + image + " (its directory resolves to " + realParent
                            + "): outside the allowed roots " + roots);
                }
            } catch (IOException e) {
                // the directory is missing too: nothing outside to point at
            }
        }
        return new ImageNotFoundException("image " + image + " does not exist");
    }

    public Path validate(String image) {
        if (image == null || image.isBlank()) {
            throw new ImageRefusedException("no image path given");
        }
        int meta = Names.firstMeta(image);
        if (meta >= 0) {
            throw new ImageRefusedException("refused image path '" + Names.printable(image)
                    + "': contains the shell metacharacter " + Names.describe(image.charAt(meta)));
        }
        return validate(Path.of(image));
    }
}
