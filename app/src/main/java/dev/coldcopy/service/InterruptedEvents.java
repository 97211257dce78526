package dev.coldcopy.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.camel.CamelContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Events a previous run of the service took but never finished (it was killed, or the host lost power):
 * their state still says {@code running} and their id is already in the duplicate filter, so the spool
 * file that is still there would be skipped as a repeat and never backed up. At start, before any route
 * runs, their ids leave the duplicate filter and their state goes back to {@code queued}: the spool file
 * is then backed up like a new event (the reaper has already undone the half-made export and checkpoint).
 */
final class InterruptedEvents {
    private static final Logger LOG = LoggerFactory.getLogger(InterruptedEvents.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private InterruptedEvents() {
    }

    /** @param ids the duplicate filter's file (one id a line) */
    static void release(CamelContext camel, Path ids) {
        Path states = Path.of(camel.resolvePropertyPlaceholders("{{coldcopy.home}}"), "state", "events");
        if (!Files.isDirectory(states)) {
            return;
        }
        Set<String> interrupted = new LinkedHashSet<>();
        try (Stream<Path> files = Files.list(states)) {
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".json")).toList()) {
                JsonNode state = readQuietly(f);
                if (state instanceof ObjectNode o && EventStates.RUNNING.equals(o.path("status").asText())) {
                    String id = o.path("id").asText();
                    o.put("status", EventStates.QUEUED).put("note", "interrupted by a stop of the service; backed up again")
                            .put("updatedAt", Instant.now().toString());
                    Path tmp = f.resolveSibling("." + f.getFileName() + ".tmp");
                    Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(o));
                    Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    interrupted.add(id);
                }
            }
            if (interrupted.isEmpty()) {
                return;
            }
            if (Files.isRegularFile(ids)) {
                List<String> kept = new ArrayList<>();
                for (String line : Files.readAllLines(ids, StandardCharsets.UTF_8)) {
                    if (!interrupted.contains(line.strip())) {
                        kept.add(line);
                    }
                }
                Path tmp = ids.resolveSibling("." + ids.getFileName() + ".tmp");
                Files.write(tmp, kept, StandardCharsets.UTF_8);
                Files.move(tmp, ids, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            LOG.warn("events interrupted by the last stop of the service will be backed up again: {}", String.join(", ", interrupted));
        } catch (IOException e) {
            LOG.warn("cannot look for events the last run left unfinished: {}", e.getMessage());
        }
    }

    private static JsonNode readQuietly(Path f) {
        try {
            return JSON.readTree(Files.readAllBytes(f));
        } catch (IOException e) {
            return null;
        }
    }
}
