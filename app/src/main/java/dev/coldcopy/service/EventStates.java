package dev.coldcopy.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * What became of each event, for {@code GET /events/{id}}: one small JSON file per event id under
 * {@code {coldcopy.home}/state/events}, so the answer survives a restart of the service. States:
 * {@code queued} (accepted by the webhook), {@code running} (taken from the spool), {@code ok} (with the
 * snapshot of each disk) and {@code failed} (with the one-line reason). Each file is replaced atomically.
 */
public final class EventStates {
    public static final String QUEUED = "queued";
    public static final String RUNNING = "running";
    public static final String OK = "ok";
    public static final String FAILED = "failed";
    /** handed to the fleet's events topic by a forwarding node */
    public static final String FORWARDED = "forwarded";
    /** As the event parser allows them: no separator, no leading dot, so an id is a safe file name. */
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");

    private final ObjectMapper json = new ObjectMapper();

    /** The event's state, if the id is one we know. */
    public Optional<ObjectNode> load(CamelContext camel, String id) throws IOException {
        if (id == null || !ID.matcher(id).matches()) {
            return Optional.empty();
        }
        try {
            return Optional.of((ObjectNode) json.readTree(Files.readAllBytes(file(camel, id))));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    private synchronized void save(CamelContext camel, String id, ObjectNode state) throws IOException {
        if (id == null || !ID.matcher(id).matches()) {
            return;
        }
        state.put("id", id);
        state.put("updatedAt", Instant.now().toString());
        Path target = file(camel, id);
        Files.createDirectories(target.getParent());
        Path tmp = target.resolveSibling("." + id + ".tmp");
        Files.write(tmp, json.writerWithDefaultPrettyPrinter().writeValueAsBytes(state));
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static Path file(CamelContext camel, String id) {
        return Path.of(camel.resolvePropertyPlaceholders("{{coldcopy.home}}"), "state", "events", id + ".json");
    }

    private ObjectNode state(String status, Exchange exchange) {
        ObjectNode state = json.createObjectNode().put("status", status);
        String vm = exchange.getMessage().getHeader(ColdcopyHeaders.VM, String.class);
        if (vm != null) {
            state.put("vm", vm);
        }
        return state;
    }

    /** An event already backed up stays {@code ok}: its redelivery is skipped, not run again. */
    private boolean alreadyDone(Exchange exchange, String id) throws IOException {
        return load(exchange.getContext(), id).map(s -> OK.equals(s.path("status").asText())).orElse(false);
    }

    private static String id(Exchange exchange) {
        return exchange.getMessage().getHeader(ColdcopyHeaders.EVENT_ID, String.class);
    }

    /** The webhook queued the event (header {@link ColdcopyHeaders#EVENT_ID}). */
    public Processor queued() {
        return exchange -> {
            String id = id(exchange);
            if (!alreadyDone(exchange, id)) {
                save(exchange.getContext(), id, state(QUEUED, exchange));
            }
        };
    }

    /** The spool route took the event and starts its backup. */
    public Processor running() {
        return exchange -> {
            String id = id(exchange);
            if (!alreadyDone(exchange, id)) {
                save(exchange.getContext(), id, state(RUNNING, exchange));
            }
        };
    }

    /** The backup route returned: the body is the list of disk results (anything else: a skipped repeat). */
    public Processor finished() {
        return exchange -> {
            if (!(exchange.getMessage().getBody() instanceof List<?> results)) {
                return;
            }
            ObjectNode state = state(OK, exchange);
            ArrayNode snapshots = state.putArray("snapshots");
            for (Object r : results) {
                if (r instanceof BackupResult result) {
                    snapshots.addObject().put("disk", result.disk()).put("snapshot", result.snapshot()).put("kind", result.kind());
                }
            }
            dev.coldcopy.service.vm.VmResult vm = exchange.getProperty(ColdcopyHeaders.VM_RESULT, dev.coldcopy.service.vm.VmResult.class);
            if (vm != null && vm.vmBackup() != null) {
                state.put("vmBackup", vm.vmBackup());
                ArrayNode skipped = state.putArray("skipped");
                vm.disks().stream().filter(d -> "skipped".equals(d.outcome()))
                        .forEach(d -> skipped.addObject().put("disk", d.disk()).put("reason", d.reason()));
            }
            save(exchange.getContext(), id(exchange), state);
        };
    }

    /**
     * The event went to the fleet's events topic (forwarding node): what becomes of it is decided on the node that
     * takes it, which answers {@code GET /events/{id}} from then on, and on the results topic.
     */
    public Processor forwarded(String topic) {
        return exchange -> {
            String id = id(exchange);
            if (!alreadyDone(exchange, id)) {
                ObjectNode state = state(FORWARDED, exchange);
                state.put("topic", topic);
                state.put("note", "backed up by the node of the group that takes it: its GET /events/{id}, and the results topic, tell");
                save(exchange.getContext(), id, state);
            }
        };
    }

    /** The event was dead-lettered; the reason is in {@link ColdcopyHeaders#REASON}. */
    public Processor failed() {
        return exchange -> {
            ObjectNode state = state(FAILED, exchange);
            state.put("reason", exchange.getMessage().getHeader(ColdcopyHeaders.REASON, "unknown failure", String.class));
            save(exchange.getContext(), id(exchange), state);
        };
    }

    /** {@code GET /events/{id}}: 200 with the state, 404 for an id never seen. */
    public Processor status() {
        return exchange -> {
            String id = exchange.getMessage().getHeader("id", String.class);
            Optional<ObjectNode> state = load(exchange.getContext(), id);
            exchange.getMessage().getHeaders().clear();
            exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json");
            if (state.isPresent()) {
                exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, 200);
                exchange.getMessage().setBody(json.writeValueAsString(state.get()));
            } else {
                exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, 404);
                exchange.getMessage().setBody(json.writeValueAsString(json.createObjectNode()
                        .put("status", "unknown").put("reason", "no event with this id")));
            }
        };
    }
}
