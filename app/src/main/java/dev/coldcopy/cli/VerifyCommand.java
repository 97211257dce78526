package dev.coldcopy.cli;

import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.repository.verify.Verifier;
import dev.coldcopy.repository.verify.VerifyResult;
import java.io.PrintWriter;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
        name = "verify",
        mixinStandardHelpOptions = true,
        description = {
            "Check that the snapshots (or one) and the VM backups are intact.",
            "",
            "Each chunk must exist, decrypt, decompress and hash to its address; each VM",
            "backup's files likewise, and the disk snapshots it lists must exist. Every",
            "bad object is printed with the snapshots that use it; the exit status is 1",
            "when there is one.",
            "",
            "A damaged chunk is moved to quarantine/chunks/ in the repository (kept for",
            "inspection), so that deduplication no longer trusts it: the next backup of",
            "the same data stores it again, and from then on the snapshots that used it",
            "restore again. A backup whose newest snapshot uses a quarantined chunk is",
            "full."
        })
final class VerifyCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    RepositoryOptionsMixin repo;

    @Option(names = "--snapshot", paramLabel = "ID",
            description = "Only this snapshot, or this VM backup (its files and disk snapshots) (default: all).")
    String snapshot;

    @Option(names = "--no-quarantine", description = "Only report damaged chunks; leave them where they are.")
    boolean noQuarantine;

    @Override
    public Integer call() throws Exception {
        VerifyResult result;
        try (Repository repository = repo.open()) {
            result = new Verifier(repository, !noQuarantine).verify(Optional.ofNullable(snapshot).map(SnapshotId::parse));
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        result.problems().forEach(p -> err.println("bad " + p));
        if (!result.brokenSnapshots().isEmpty()) {
            err.println("broken snapshots (a later backup that stores the same data again repairs damaged chunks): "
                    + String.join(", ", result.brokenSnapshots()));
        }
        out.printf("%d snapshot(s), %d VM backup(s), %d chunk(s) checked: %s%n", result.snapshots(), result.vmBackups(),
                result.chunks(), result.ok() ? "all good" : result.problems().size() + " problem(s)");
        if (result.unusedChunks() > 0) {
            out.printf("%d chunk(s) (%s) are used by no snapshot: a running backup's, or left by removed snapshots"
                    + " (coldcopy prune removes them)%n", result.unusedChunks(), Sizes.human(result.unusedChunkBytes()));
        }
        out.flush();
        err.flush();
        return result.ok() ? 0 : OneLineErrors.EXIT_FAILURE;
    }
}
