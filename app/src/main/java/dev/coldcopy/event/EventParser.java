package dev.coldcopy.event;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import dev.coldcopy.domain.DomainDefinition;
import dev.coldcopy.domain.DomainDisk;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Reads a "VM stopped" event (JSON) and checks everything that can be checked without touching an
 * image: shape, types, names, paths. Unknown fields are ignored so newer senders keep working; known
 * fields of the wrong type are refused.
 */
public final class EventParser {

    /** An event is a few hundred bytes; a domain XML a few KiB. Anything near this is not an event. */
    public static final int MAX_EVENT_BYTES = 1 << 20;
    public static final String STOPPED = "stopped";
    private static final Pattern EVENT_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");

    private final ObjectMapper mapper = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    public BackupEvent parse(byte[] json) {
        if (json == null || json.length == 0) {
            throw new BadEventException("event is empty");
        }
        if (json.length > MAX_EVENT_BYTES) {
            throw new BadEventException("event is " + json.length + " bytes, more than the " + MAX_EVENT_BYTES + " allowed");
        }
        JsonNode root;
        try {
            root = mapper.readTree(json);
        } catch (JsonProcessingException e) {
            throw new BadEventException("event is not valid JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw new BadEventException("event could not be read: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new BadEventException("event must be a JSON object, not " + describe(root));
        }
        String kind = requiredText(root, "event");
        if (!STOPPED.equals(kind)) {
            throw new BadEventException("event type '" + EventNames.printable(kind) + "' is not handled (only 'stopped')");
        }
        Optional<DomainDefinition> domain = optionalText(root, "domainXml").map(DomainDefinition::parse);

        String vm = optionalText(root, "vm")
                .or(() -> domain.map(DomainDefinition::name))
                .orElseThrow(() -> new BadEventException("event has no 'vm'"));
        EventNames.vm(vm);
        if (domain.isPresent() && !domain.get().name().equals(vm)) {
            throw new BadEventException("event names vm '" + vm + "' but its domainXml is for '" + EventNames.printable(domain.get().name()) + "'");
        }

        List<DiskSpec> disks;
        JsonNode disksNode = root.get("disks");
        if (disksNode != null && !disksNode.isNull()) {
            disks = disks(disksNode);           // the sender's choice wins; the domain is still recorded
        } else if (domain.isPresent()) {
            disks = domainDisks(domain.get());
        } else {
            throw new BadEventException("event has no 'disks' (and no 'domainXml' to read them from)");
        }
        if (disks.isEmpty()) {
            throw new BadEventException("event lists no disks to back up");
        }
        Set<String> targets = new HashSet<>();
        for (DiskSpec d : disks) {
            if (!targets.add(d.target())) {
                throw new BadEventException("disk target '" + d.target() + "' appears twice");
            }
        }
        DiskSpec.requireDistinctImages(disks);
        Optional<String> checkpoint = optionalText(root, "checkpoint").map(EventNames::checkpoint);
        // Without an id two stops of the same VM look alike; de-duplicating them could skip a real
        // backup, so only an id the sender gave marks a redelivery.
        String id = optionalText(root, "id").map(EventParser::eventId).orElseGet(() -> "evt-" + UUID.randomUUID());
        return new BackupEvent(id, vm, disks, checkpoint, domain);
    }

    /** The domain's backed-up disks; none is a bad event, whose reason says what each disk is instead. */
    public static List<DiskSpec> domainDisks(DomainDefinition domain) {
        // the declared format, not a probe: a raw disk whose guest wrote a qcow2 header stays raw
        List<DiskSpec> disks = domain.backedUp().stream().map(d -> new DiskSpec(d.target(), d.source(), d.format())).toList();
        if (disks.isEmpty()) {
            throw new BadEventException("no disk to back up: " + (domain.skipped().isEmpty() ? "the domain has no disks"
                    : domain.skipped().stream().map(DomainDisk::describe).collect(Collectors.joining(", "))));
        }
        return disks;
    }

    private static List<DiskSpec> disks(JsonNode node) {
        if (!node.isArray()) {
            throw new BadEventException("'disks' must be an array, not " + describe(node));
        }
        List<DiskSpec> disks = new ArrayList<>();
        int i = 0;
        for (JsonNode disk : node) {
            String where = "disks[" + i++ + "]";
            if (!disk.isObject()) {
                throw new BadEventException(where + " must be an object with 'target' and 'image', not " + describe(disk));
            }
            String target = EventNames.target(requiredText(disk, "target", where));
            Path image = imagePath(requiredText(disk, "image", where), where + " (" + target + ")");
            disks.add(new DiskSpec(target, image));
        }
        return disks;
    }

    /** Only the form of the path is checked here; allowed roots and existence are the image policy's job. */
    public static Path imagePath(String value, String where) {
        return absolutePath(value, where, "image path");
    }

    /** A host file a domain names (nvram, kernel, ...), checked as an image path is. */
    public static Path hostPath(String value, String where) {
        return absolutePath(value, where, "path");
    }

    private static Path absolutePath(String value, String where, String what) {
        if (value.indexOf('\0') >= 0) {
            throw new BadEventException(where + ": " + what + " contains a NUL byte");
        }
        Path path;
        try {
            path = Path.of(value);
        } catch (InvalidPathException e) {
            throw new BadEventException(where + ": " + what + " '" + EventNames.printable(value) + "' is not a valid path");
        }
        if (!path.isAbsolute()) {
            throw new BadEventException(where + ": " + what + " '" + EventNames.printable(value) + "' must be absolute");
        }
        if (!path.normalize().equals(path)) {
            throw new BadEventException(where + ": " + what + " '" + EventNames.printable(value) + "' must not contain '.' or '..'");
        }
        return path;
    }

    private static String eventId(String id) {
        if (!EVENT_ID.matcher(id).matches()) {
            throw new BadEventException("event id '" + EventNames.printable(id) + "' is not allowed (letters, digits and ._:- only)");
        }
        return id;
    }

    private static String requiredText(JsonNode node, String field) {
        return requiredText(node, field, "event");
    }

    private static String requiredText(JsonNode node, String field, String where) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            throw new BadEventException(where + " has no '" + field + "'");
        }
        if (!value.isTextual()) {
            throw new BadEventException(where + ": '" + field + "' must be a string, not " + describe(value));
        }
        return value.textValue();
    }

    private static Optional<String> optionalText(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return Optional.empty();
        }
        if (!value.isTextual()) {
            throw new BadEventException("event: '" + field + "' must be a string, not " + describe(value));
        }
        return Optional.of(value.textValue());
    }

    private static String describe(JsonNode node) {
        if (node == null || node.getNodeType() == JsonNodeType.MISSING) {
            return "nothing";
        }
        return switch (node.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case STRING -> "a string";
            case NULL -> "null";
            default -> node.getNodeType().name().toLowerCase();
        };
    }

    /** For tests and callers that hold a String. */
    public BackupEvent parse(String json) {
        return parse(json.getBytes(StandardCharsets.UTF_8));
    }
}
