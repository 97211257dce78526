package dev.coldcopy.repository.lifecycle;

import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import java.time.Duration;
import java.util.Optional;

/** A prune in a process of its own (to run beside backups, or to be killed): args REPO-URI KEEP-LAST. */
public final class PruneMain {
    private PruneMain() {
    }

    public static void main(String[] args) throws Exception {
        try (Repository repo = Repository.open(RepositoryUri.parse(args[0]), RepositoryOptions.builder().parallelism(2).build())) {
            PruneResult r = new Pruner(repo).prune(new Pruner.Request(Optional.empty(), Optional.empty(),
                    KeepRules.NONE.withLast(Integer.parseInt(args[1])), false, Duration.ofMinutes(2)), d -> { });
            System.out.println("pruned: removed " + r.snapshotsRemoved() + " snapshots and " + r.chunksRemoved() + " chunks");
        }
        System.exit(0);
    }

    static ProcessBuilder command(String repositoryUri, int keepLast) {
        return new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", System.getProperty("java.class.path"), PruneMain.class.getName(), repositoryUri,
                Integer.toString(keepLast)).redirectErrorStream(true);
    }
}
