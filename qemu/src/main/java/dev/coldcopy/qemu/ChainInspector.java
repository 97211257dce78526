package dev.coldcopy.qemu;

import java.io.IOException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.coldcopy.security.ImagePolicy;
import dev.coldcopy.security.ImageRefusedException;

/**
 * Reads a disk's backing chain one layer at a time, judging every file <em>before</em> any qemu program
 * opens it. {@code qemu-img info --backing-chain} would open each backing file it finds (a qcow2 whose
 * backing file is {@code nbd://host/x} or {@code http://...} makes it connect there) before coldcopy could
 * look at the name. So the backing file name (and backing format) are read from the qcow2 header directly
 * ({@link Qcow2Header}), checked (a plain local path, inside the allowed roots after resolving symlinks),
 * and only then is that one file given to {@code qemu-img info} — which, without {@code --backing-chain},
 * does not open backing files.
 *
 * <p>Without {@code -U}: while a VM has the top image open, qemu-img fails with a lock error, reported as
 * {@link VmRunningException}.
 */
public final class ChainInspector {

    /** Far deeper than any real chain; a longer one is a loop or an attack. */
    static final int MAX_DEPTH = 64;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final QemuTools tools;
    private final ImagePolicy policy;

    public ChainInspector(QemuTools tools, ImagePolicy policy) {
        this.tools = tools;
        this.policy = policy;
    }

    /** The real path of {@code image} if the policy allows it (nothing is opened). */
    public Path realPath(Path image) {
        return policy.validate(image);
    }

    /**
     * @throws dev.coldcopy.security.ImageNotFoundException the image does not exist (nothing ran)
     * @throws ImageRefusedException outside the allowed roots, odd characters, a backing file that is not a
     *                               local file inside the roots, an external data file (nothing opened)
     * @throws VmRunningException    another process holds the image for writing
     * @throws QemuException         qemu-img failed otherwise (its message included)
     */
    public BackingChain inspect(Path image) {
        return inspect(image, Optional.empty());
    }

    /**
     * As {@link #inspect(Path)}, with the top image's format as the VM's definition declares it. A declared raw
     * disk is read as raw whatever its first bytes say: a guest can write a qcow2 header (naming any backing
     * file) at the start of its raw disk, and probing would then follow it. A declared qcow2 that is not one is
     * refused.
     *
     * @param declaredFormat qcow2 or raw; empty: probed from the file's magic (events that name no format)
     */
    public BackingChain inspect(Path image, Optional<String> declaredFormat) {
        Path top = policy.validate(image);
        List<ImageLayer> layers = new ArrayList<>();
        Set<Path> seen = new HashSet<>();
        Path current = top;
        String format = declaredFormat.isPresent() ? topFormat(declaredFormat.get(), top)
                : Qcow2Header.read(top).isPresent() ? ImageLayer.QCOW2 : ImageLayer.RAW;
        while (true) {
            if (!seen.add(current)) {
                throw new ImageRefusedException("refused backing chain of " + top + ": " + current + " appears twice (a loop)");
            }
            if (layers.size() >= MAX_DEPTH) {
                throw new ImageRefusedException("refused backing chain of " + top + ": deeper than " + MAX_DEPTH + " layers");
            }
            Optional<Qcow2Header> header = ImageLayer.QCOW2.equals(format) ? Qcow2Header.read(current) : Optional.empty();
            if (ImageLayer.QCOW2.equals(format) && header.isEmpty()) {
                throw new ImageRefusedException("refused backing file " + current + " of " + top
                        + ": its referrer says qcow2, but it is not a qcow2 image");
            }
            Path backing = null;
            String backingFormat = null;
            if (header.isPresent()) {
                Qcow2Header h = header.get();
                if (h.hasExternalDataFileBit() || h.externalDataFile().isPresent()) {
                    throw new ImageRefusedException("refused " + current + (current.equals(top) ? "" : " (backing file of " + top + ")")
                            + ": it keeps its data in an external data file"
                            + h.externalDataFile().map(f -> " '" + printable(f) + "'").orElse("")
                            + ", which coldcopy does not back up");
                }
                if (h.backingFile().isPresent()) {
                    backing = backingPath(h.backingFile().get(), current, top);
                    backingFormat = backingFormat(h.backingFormat(), backing, top);
                }
            }
            layers.add(layer(tools.info(current, format), current, format));
            if (backing == null) {
                return new BackingChain(layers);
            }
            current = backing;
            format = backingFormat;
        }
    }

    /**
     * A backing file name as the qcow2 header holds it → the real path of a file inside the allowed roots.
     * qemu reads a name with a {@code scheme:} before the first '/' as a protocol ({@code nbd:}, {@code http:},
     * {@code json:{...}}, {@code file:}...): any such name is refused, whatever the scheme.
     */
    private Path backingPath(String name, Path layer, Path top) {
        String what = "refused backing file '" + printable(name) + "' of " + layer
                + (layer.equals(top) ? "" : " (in the chain of " + top + ")");
        if (name.isEmpty() || name.indexOf('\0') >= 0 || name.chars().anyMatch(Character::isISOControl)) {
            throw new ImageRefusedException(what + ": not a plain file name");
        }
        int colon = name.indexOf(':');
        int slash = name.indexOf('/');
        if (colon >= 0 && (slash < 0 || colon < slash)) {
            throw new ImageRefusedException(what + ": not a local file (protocol and json: backing files are never opened)");
        }
        Path p;
        try {
            p = Path.of(name);
        } catch (InvalidPathException e) {
            throw new ImageRefusedException(what + ": not a valid path");
        }
        // Joined as written and left to the OS: "dirlink/../x" is x next to wherever dirlink points, which is
        // what qemu opens. Cleaning up ".." first would judge (and back up) a different file.
        Path resolved = p.isAbsolute() ? p : layer.resolveSibling(p);
        try {
            return policy.validate(resolved);
        } catch (ImageRefusedException e) {
            if (e instanceof dev.coldcopy.security.ImageNotFoundException) {
                throw new dev.coldcopy.security.ImageNotFoundException(what + ": " + e.getMessage());
            }
            throw new ImageRefusedException(what + ": " + e.getMessage());
        }
    }

    private static String topFormat(String declared, Path top) {
        if (!ImageLayer.QCOW2.equals(declared) && !ImageLayer.RAW.equals(declared)) {
            throw new ImageRefusedException("refused " + top + ": its format '" + printable(declared) + "' is not qcow2 or raw");
        }
        if (ImageLayer.QCOW2.equals(declared) && Qcow2Header.read(top).isEmpty()) {
            throw new ImageRefusedException("refused " + top + ": declared qcow2, but it is not a qcow2 image");
        }
        return declared;
    }

    /** The header's backing format if it names one (only qcow2 and raw layers are opened), else qcow2 by its magic, else raw. */
    private static String backingFormat(Optional<String> declared, Path backing, Path top) {
        if (declared.isPresent()) {
            String f = declared.get();
            if (!ImageLayer.QCOW2.equals(f) && !ImageLayer.RAW.equals(f)) {
                throw new ImageRefusedException("refused backing file " + backing + " of " + top + ": its format '"
                        + printable(f) + "' is not qcow2 or raw");
            }
            return f;
        }
        return Qcow2Header.read(backing).isPresent() ? ImageLayer.QCOW2 : ImageLayer.RAW;
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(200).forEach(c -> b.append(Character.isISOControl(c) ? '?' : Character.toString(c)));
        return b.toString();
    }

    /** One layer from {@code qemu-img info --output=json} of that file alone. */
    public static ImageLayer layer(String json, Path path, String format) {
        JsonNode node;
        try {
            node = JSON.readTree(json);
        } catch (IOException e) {
            throw new QemuException("qemu-img info printed no valid JSON for " + path + ": " + e.getMessage(), e);
        }
        if (node == null || !node.isObject()) {
            throw new QemuException("qemu-img info printed no image for " + path);
        }
        return new ImageLayer(path, node.path("format").asText(format), node.path("virtual-size").asLong(-1),
                bitmaps(node.path("format-specific").path("data").path("bitmaps")));
    }

    private static List<Bitmap> bitmaps(JsonNode list) {
        List<Bitmap> result = new ArrayList<>();
        if (list.isArray()) {
            for (JsonNode b : list) {
                Set<String> flags = new LinkedHashSet<>();
                b.path("flags").forEach(f -> flags.add(f.asText()));
                result.add(new Bitmap(b.path("name").asText(), b.path("granularity").asLong(), flags));
            }
        }
        return result;
    }
}
