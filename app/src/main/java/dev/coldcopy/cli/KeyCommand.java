package dev.coldcopy.cli;

import dev.coldcopy.repository.RepositoryKeys;
import java.io.PrintWriter;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
        name = "key",
        mixinStandardHelpOptions = true,
        description = "Manage repository key files.",
        subcommands = {KeyCommand.Generate.class})
final class KeyCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(
            name = "generate",
            mixinStandardHelpOptions = true,
            description = {
                "Write a new random 32-byte key (64 hex digits) to FILE.",
                "",
                "The file is readable by its owner only (mode 0600). Refuses to overwrite an",
                "existing file. Keep a copy somewhere safe: without the key an encrypted",
                "repository cannot be read."
            })
    static final class Generate implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "FILE", description = "The key file to create.")
        Path file;

        @Override
        public Integer call() throws Exception {
            try {
                RepositoryKeys.generateKeyFile(file);
            } catch (FileAlreadyExistsException e) {
                throw new IllegalArgumentException("key file " + file + " exists already; not overwriting it");
            }
            PrintWriter out = spec.commandLine().getOut();
            out.println("wrote a new key to " + file + " (mode 0600)");
            out.flush();
            return 0;
        }
    }
}
