package dev.coldcopy.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.lifecycle.KeepRules;
import dev.coldcopy.repository.lifecycle.PruneResult;
import dev.coldcopy.repository.lifecycle.Pruner;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(
        name = "prune",
        mixinStandardHelpOptions = true,
        description = {
            "Remove the snapshots no keep rule keeps, and their unused chunks.",
            "",
            "Per VM and disk, a snapshot stays when any rule keeps it (restic's rules;",
            "periods in UTC): --keep-last N keeps the newest N;",
            "--keep-hourly/-daily/-weekly/-monthly/-yearly N keep the newest snapshot of",
            "each of the last N hours/days/ISO weeks/months/years that have one (-1: all);",
            "--keep-within 7d keeps all taken within 7 days of the disk's newest snapshot.",
            "Each disk's newest snapshot (and its newest full or incremental) always stays.",
            "Without a keep rule prune refuses. Then every chunk no remaining snapshot uses",
            "is deleted. Prune holds the repository's exclusive lock: running backups",
            "finish first (up to --wait), backups that start meanwhile wait for it."
        })
final class PruneCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    RepositoryOptionsMixin repo;

    @Option(names = "--vm", paramLabel = "NAME", description = "Only this VM's snapshots.")
    String vm;

    @Option(names = "--disk", paramLabel = "TARGET", description = "Only this disk target's snapshots (vda, sdb...).")
    String disk;

    @Option(names = "--keep-last", paramLabel = "N", description = "Keep the newest N snapshots.")
    int last;

    @Option(names = "--keep-hourly", paramLabel = "N", description = "Keep the newest snapshot of each of the last N hours that have one.")
    int hourly;

    @Option(names = "--keep-daily", paramLabel = "N", description = "... of each of the last N days.")
    int daily;

    @Option(names = "--keep-weekly", paramLabel = "N", description = "... of each of the last N ISO weeks (Monday to Sunday).")
    int weekly;

    @Option(names = "--keep-monthly", paramLabel = "N", description = "... of each of the last N months.")
    int monthly;

    @Option(names = "--keep-yearly", paramLabel = "N", description = "... of each of the last N years.")
    int yearly;

    @Option(names = "--keep-within", paramLabel = "DURATION",
            description = "Keep every snapshot taken within DURATION of the disk's newest (e.g. 36h, 7d, 2w, 1y6m).")
    String within;

    @Option(names = "--dry-run", description = "Print what would be removed; change nothing (takes no lock).")
    boolean dryRun;

    @Option(names = "--wait", paramLabel = "DURATION", defaultValue = "10m",
            description = "How long to wait for running backups (default ${DEFAULT-VALUE}).")
    String wait;

    @Option(names = "--json", description = "One JSON object, for scripts.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        KeepRules rules;
        Duration waitFor;
        try {
            rules = new KeepRules(last, hourly, daily, weekly, monthly, yearly,
                    Optional.ofNullable(within).map(KeepRules::parseDuration));
            waitFor = parseWait(wait);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        if (rules.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "no keep rule given: refusing to remove every snapshot but the newest "
                    + "(give at least one --keep-* option; a count of 0 turns a rule off)");
        }
        PrintWriter out = spec.commandLine().getOut();
        Pruner.Request request = new Pruner.Request(Optional.ofNullable(vm), Optional.ofNullable(disk), rules, dryRun, waitFor);
        PruneResult result;
        try (Repository repository = repo.open()) {
            result = new Pruner(repository).prune(request, d -> {
                if (!json) {
                    out.println(line(d, dryRun));
                    out.flush();
                }
            });
        }
        if (json) {
            out.println(new ObjectMapper().findAndRegisterModules().enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(PruneReport.of(result)));
        } else {
            out.println(summary(result));
        }
        out.flush();
        return 0;
    }

    static Duration parseWait(String text) {
        String t = text.strip();
        if (t.matches("\\d+s")) {
            return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
        }
        if (t.matches("\\d+m")) {
            return Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
        }
        return KeepRules.parseDuration(t);
    }

    static String line(PruneResult.DiskOutcome d, boolean dryRun) {
        StringBuilder sb = new StringBuilder(d.vm()).append('/').append(d.disk()).append(": ")
                .append(dryRun ? "would keep " : "kept ").append(d.kept().size())
                .append(dryRun ? ", would remove " : ", removed ").append(d.removed().size());
        if (!d.removed().isEmpty()) {
            sb.append(" (").append(String.join(" ", d.removed().stream().map(SnapshotId::value).toList())).append(')');
        }
        return sb.toString();
    }

    static String summary(PruneResult r) {
        String verb = r.dryRun() ? "would remove " : "removed ";
        StringBuilder sb = new StringBuilder(verb).append(r.snapshotsRemoved()).append(" snapshots and ")
                .append(r.chunksRemoved()).append(" chunks, ").append(r.dryRun() ? "would free " : "freed ")
                .append(Sizes.human(r.bytesFreed())).append(" (").append(r.bytesFreed()).append(" bytes); kept ")
                .append(r.snapshotsKept()).append(" snapshots");
        if (r.vmBackupsRemoved() > 0) {
            sb.append("; ").append(r.dryRun() ? "would remove " : "removed ").append(r.vmBackupsRemoved()).append(" VM backups (")
                    .append(String.join(" ", r.removedVmBackups().stream().map(v -> v.vm() + "/" + v.id()).toList())).append(')');
        }
        if (r.partlyUsedChunks() > 0) {
            sb.append("; ").append(r.partlyUsedChunks()).append(" kept chunks are partly used (")
                    .append(Sizes.human(r.unusedBytesInUsedChunks())).append(" not read by any snapshot, kept)");
        }
        if (r.chunksMissing() > 0) {
            sb.append("; WARNING: ").append(r.chunksMissing()).append(" chunks used by snapshots are missing (run verify)");
        }
        return sb.toString();
    }

    /** the JSON shape of a prune result (stable for scripts) */
    record PruneReport(boolean dryRun, Object disks, int snapshotsRemoved, int snapshotsKept, long chunksRemoved, long bytesFreed,
                       long chunksKept, long partlyUsedChunks, long unusedBytesInUsedChunks, long chunksMissing, long durationMs,
                       Object vmBackupsRemoved) {
        static PruneReport of(PruneResult r) {
            return new PruneReport(r.dryRun(), r.disks().stream().map(d -> java.util.Map.of(
                    "vm", d.vm(), "disk", d.disk(),
                    "kept", d.kept().stream().map(k -> java.util.Map.of("id", k.id().value(), "reasons", k.reasons())).toList(),
                    "removed", d.removed().stream().map(SnapshotId::value).toList())).toList(),
                    r.snapshotsRemoved(), r.snapshotsKept(), r.chunksRemoved(), r.bytesFreed(), r.chunksKept(), r.partlyUsedChunks(),
                    r.unusedBytesInUsedChunks(), r.chunksMissing(), r.durationMillis(),
                    r.removedVmBackups().stream().map(v -> java.util.Map.of("vm", v.vm(), "id", v.id().value(), "reason", v.reason())).toList());
        }
    }
}
