package dev.coldcopy.cli;

import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.lock.RepositoryLocks;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "unlock",
        mixinStandardHelpOptions = true,
        description = {
            "Remove stale repository locks and list the others.",
            "",
            "A lock is stale when its holder has not refreshed it for 30 minutes, or ran",
            "on this host and has exited. Backups and prune ignore stale locks anyway;",
            "this only tidies up. --all also removes live locks: use it only when no",
            "coldcopy process uses the repository."
        })
final class UnlockCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    RepositoryOptionsMixin repo;

    @Option(names = "--all", description = "Remove every lock, live ones too.")
    boolean all;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try (Repository repository = repo.open()) {
            List<RepositoryLocks.ListedLock> removed = repository.locks().removeStale(all);
            for (RepositoryLocks.ListedLock l : removed) {
                out.println("removed " + l.describe());
            }
            for (RepositoryLocks.ListedLock l : repository.locks().list()) {
                out.println("held: " + l.describe());
            }
            if (removed.isEmpty()) {
                out.println("no lock removed");
            }
        }
        out.flush();
        return 0;
    }
}
