package dev.coldcopy.cli;

import dev.coldcopy.repository.vm.HostFile;
import dev.coldcopy.repository.vm.VmBackup;
import dev.coldcopy.repository.vm.VmBackups;
import dev.coldcopy.repository.vm.VmDisk;

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
            "bytes.",
            "",
            "With --vms, one line per VM backup (one stop event): VM, id, time, each disk's",
            "snapshot, the skipped disks, the host files and the domain XML's digest."
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

    @Option(names = "--vms", description = "List VM backups (whole VMs: disks, definition, host files) instead of disk snapshots.")
    boolean vms;

    @Override
    public Integer call() throws Exception {
        if (vms) {
            return listVmBackups();
        }
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

    private int listVmBackups() throws Exception {
        List<VmBackup> backups;
        try (Repository repository = repo.open()) {
            backups = new VmBackups(repository).list(Optional.ofNullable(vm));
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            ArrayNode array = mapper.createArrayNode();
            for (VmBackup b : backups) {
                ObjectNode n = array.addObject();
                n.put("vm", b.vm());
                n.put("id", b.id().toString());
                n.put("created", b.created().toString());
                n.put("eventId", b.eventId());
                ArrayNode disks = n.putArray("disks");
                for (VmDisk d : b.disks()) {
                    ObjectNode dn = disks.addObject().put("disk", d.target()).put("outcome", d.outcome());
                    if (d.snapshot() != null) {
                        dn.put("snapshot", d.snapshot().toString());
                    }
                    dn.put("source", d.source()).put("format", d.format()).put("reason", d.reason());
                }
                ArrayNode files = n.putArray("files");
                b.files().forEach(f -> files.addObject().put("role", f.role()).put("path", f.path()).put("size", f.size())
                        .put("sha256", f.sha256()));
                ArrayNode notes = n.putArray("notes");
                b.notes().forEach(notes::add);
            }
            out.println(mapper.writeValueAsString(array));
        } else {
            out.printf("%-16s %-28s %-20s %-40s %s%n", "VM", "VM BACKUP", "CREATED", "DISKS", "FILES / XML SHA-256");
            for (VmBackup b : backups) {
                String disks = String.join(" ", b.disks().stream().map(d -> VmDisk.BACKED_UP.equals(d.outcome())
                        ? d.target() + "=" + d.snapshot() : d.target() + ":skipped(" + d.reason() + ")").toList());
                String files = String.join(" ", b.files().stream().filter(f -> !HostFile.DOMAIN_XML.equals(f.role()))
                        .map(HostFile::role).toList());
                String xml = b.domainXml().map(f -> "xml " + f.sha256().substring(0, 16)).orElse("no xml")
                        + (b.notes().isEmpty() ? "" : " (" + b.notes().size() + " note(s): --json shows them)");
                out.printf("%-16s %-28s %-20s %-40s %s%n", b.vm(), b.id(), b.created().toString().replaceFirst("\\.\\d+Z$", "Z"),
                        disks, (files.isEmpty() ? "" : files + " / ") + xml);
            }
        }
        out.flush();
        return 0;
    }
}
