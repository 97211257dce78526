package dev.coldcopy.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code coldcopy} command line. Each subcommand is one class in this package; exit status 0 on
 * success, non-zero with a one-line reason on stderr otherwise.
 */
@Command(
        name = "coldcopy",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Incremental backups of stopped QEMU/KVM virtual machines.",
        subcommands = {
            RunCommand.class,
            InitCommand.class,
            KeyCommand.class,
            BackupCommand.class,
            RestoreCommand.class,
            ServeCommand.class,
            SnapshotsCommand.class,
            VerifyCommand.class,
            PruneCommand.class,
            UnlockCommand.class,
            MapCommand.class,
            DemoCommand.class,
            CommandLine.HelpCommand.class,
        })
public final class ColdcopyCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        quietCamelUnlessService(args);
        System.exit(execute(args));
    }

    /**
     * The service logs Camel's start and stop; a one-shot command would only drown its own output in
     * them. Must run before the first logger is created (simplelogger reads these once).
     */
    static void quietCamelUnlessService(String[] args) {
        if (args.length == 0 || !"run".equals(args[0])) {
            System.setProperty("org.slf4j.simpleLogger.log.org.apache.camel.impl.engine.AbstractCamelContext", "warn");
            System.setProperty("org.slf4j.simpleLogger.log.org.apache.camel.main.MainSupport", "warn");
        }
    }

    /** Runs the command line and returns its exit status (used by main and by tests). */
    public static int execute(String... args) {
        return newCommandLine().execute(args);
    }

    static CommandLine newCommandLine() {
        CommandLine cli = new CommandLine(new ColdcopyCommand());
        cli.setExecutionExceptionHandler(new OneLineErrors());
        return cli;
    }
}
