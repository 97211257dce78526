package dev.coldcopy.cli;

import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotId;
import dev.coldcopy.restore.Verifier;
import dev.coldcopy.restore.VerifyResult;
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
            "Check that the chunks of a snapshot (or of all) are intact.",
            "",
            "Each chunk must exist, decrypt, decompress and hash to its address. Every",
            "bad object is printed; the exit status is 1 when there is one."
        })
final class VerifyCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    RepositoryOptionsMixin repo;

    @Option(names = "--snapshot", paramLabel = "ID", description = "Only this snapshot (default: all).")
    String snapshot;

    @Override
    public Integer call() throws Exception {
        VerifyResult result;
        try (Repository repository = repo.open()) {
            result = new Verifier(repository).verify(Optional.ofNullable(snapshot).map(SnapshotId::parse));
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        result.problems().forEach(p -> err.println("bad " + p));
        out.printf("%d snapshot(s), %d chunk(s) checked: %s%n", result.snapshots(), result.chunks(),
                result.ok() ? "all good" : result.problems().size() + " problem(s)");
        out.flush();
        err.flush();
        return result.ok() ? 0 : OneLineErrors.EXIT_FAILURE;
    }
}
