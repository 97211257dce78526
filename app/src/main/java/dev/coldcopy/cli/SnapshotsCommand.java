package dev.coldcopy.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotSummary;
import java.io.PrintWriter;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
        name = "snapshots",
        mixinStandardHelpOptions = true,
        description = {
            "List the snapshots in a repository.",
            "",
            "One line per snapshot: VM, disk, id, time, kind, disk size, data and stored",
            "bytes."
        })
final class SnapshotsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    RepositoryOptionsMixin repo;

    @Option(names = "--vm", paramLabel = "NAME", description = "Only this VM's snapshots.")
    String vm;

    @Option(names = "--json", description = "One JSON array, for scripts.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        List<SnapshotSummary> snapshots;
        try (Repository repository = repo.open()) {
            snapshots = repository.list(Optional.ofNullable(vm));
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(toJson(snapshots));
        } else {
            out.printf("%-16s %-8s %-28s %-20s %-11s %10s %10s %10s%n",
                    "VM", "DISK", "SNAPSHOT", "CREATED", "KIND", "SIZE", "DATA", "STORED");
            for (SnapshotSummary s : snapshots) {
                out.printf("%-16s %-8s %-28s %-20s %-11s %10s %10s %10s%n", s.vm(), s.disk(), s.id(),
                        s.created().toString().replaceFirst("\\.\\d+Z$", "Z"), s.kind().label(),
                        Sizes.human(s.virtualSize()), Sizes.human(s.dataBytes()), Sizes.human(s.bytesStored()));
            }
        }
        out.flush();
        return 0;
    }

    private static String toJson(List<SnapshotSummary> snapshots) throws Exception {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ArrayNode array = mapper.createArrayNode();
        for (SnapshotSummary s : snapshots) {
            ObjectNode n = array.addObject();
            n.put("vm", s.vm());
            n.put("disk", s.disk());
            n.put("id", s.id().toString());
            n.put("created", s.created().toString());
            n.put("kind", s.kind().label());
            n.put("reason", s.reason());
            n.put("virtualSize", s.virtualSize());
            n.put("dataBytes", s.dataBytes());
            n.put("bytesStored", s.bytesStored());
            s.parent().ifPresent(p -> n.put("parent", p.toString()));
            n.put("checkpointUsed", s.checkpointUsed());
            n.put("checkpointCreated", s.checkpointCreated());
        }
        return mapper.writeValueAsString(array);
    }
}
