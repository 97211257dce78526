package dev.coldcopy.qemu;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.coldcopy.security.ImagePolicy;
import dev.coldcopy.security.ImageRefusedException;

/**
 * Reads a disk's backing chain with {@code qemu-img info --backing-chain --output=json}. Without {@code -U}:
 * while a VM has the image open qemu-img fails with a lock error, reported as {@link VmRunningException}.
 * The top image is checked against the {@link ImagePolicy} before qemu-img runs, every backing file after.
 */
public final class ChainInspector {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final QemuTools tools;
    private final ImagePolicy policy;

    public ChainInspector(QemuTools tools, ImagePolicy policy) {
        this.tools = tools;
        this.policy = policy;
    }

    /**
     * @throws dev.coldcopy.security.ImageNotFoundException the image does not exist (nothing ran)
     * @throws ImageRefusedException outside the allowed roots, odd characters, a backing file outside (nothing written)
     * @throws VmRunningException    another process holds the image for writing
     * @throws QemuException         qemu-img failed otherwise (its message included)
     */
    public BackingChain inspect(Path image) {
        Path top = policy.validate(image);
        String json = tools.infoBackingChain(top);
        BackingChain chain = parse(json, top);
        List<ImageLayer> layers = new ArrayList<>(List.of(chain.top()));
        for (ImageLayer layer : chain.layers().subList(1, chain.depth())) {
            Path real;
            try {
                real = policy.validate(layer.path());
            } catch (ImageRefusedException e) {
                throw new ImageRefusedException("refused backing file of " + top + ": " + e.getMessage());
            }
            layers.add(new ImageLayer(real, layer.format(), layer.virtualSize(), layer.bitmaps()));
        }
        return new BackingChain(layers);
    }

    /** Parses qemu-img's JSON (a list of layers, top first). Relative backing names resolve against the referring image. */
    public static BackingChain parse(String json, Path top) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            throw new QemuException("qemu-img info printed no valid JSON for " + top + ": " + e.getMessage(), e);
        }
        if (root == null || !root.isArray() || root.isEmpty()) {
            throw new QemuException("qemu-img info printed no image for " + top);
        }
        List<ImageLayer> layers = new ArrayList<>();
        Path expected = top;
        for (JsonNode node : root) {
            String filename = node.path("filename").asText("");
            Path path = layers.isEmpty() ? top : expected;
            if (path == null) {
                throw new QemuException("backing chain of " + top + " has a layer '" + filename + "' qemu-img gave no path for");
            }
            layers.add(new ImageLayer(path, node.path("format").asText(""), node.path("virtual-size").asLong(-1),
                    bitmaps(node.path("format-specific").path("data").path("bitmaps"))));
            expected = backingPath(node, path);
        }
        return new BackingChain(layers);
    }

    private static Path backingPath(JsonNode node, Path image) {
        String backing = node.hasNonNull("full-backing-filename") ? node.get("full-backing-filename").asText()
                : node.path("backing-filename").asText(null);
        if (backing == null) {
            return null;
        }
        if (backing.startsWith("json:") || backing.contains("://") || !backing.startsWith("/") && backing.contains(":")) {
            throw new ImageRefusedException("refused backing file '" + backing + "' of " + image + ": not a local file");
        }
        Path p = Path.of(backing);
        return p.isAbsolute() ? p : image.resolveSibling(p);
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
