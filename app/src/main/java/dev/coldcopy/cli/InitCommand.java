package dev.coldcopy.cli;

import dev.coldcopy.repository.Repository;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
        name = "init",
        mixinStandardHelpOptions = true,
        description = {
            "Create a repository, after testing that its store keeps data.",
            "",
            "A test object is written, read back, listed and deleted, then the config is",
            "written. With --key-file the repository is encrypted (make a key with:",
            "coldcopy key generate FILE). Fails if a repository exists there already.",
            "A backup into a repository that does not exist yet creates it the same way."
        })
final class InitCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    RepositoryOptionsMixin repo;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try (Repository repository = repo.init()) {
            out.printf("initialised repository %s at %s (%s)%n", repository.id(), repository.uri(),
                    repository.config().encrypted() ? "encrypted" : "not encrypted");
        }
        out.flush();
        return 0;
    }
}
