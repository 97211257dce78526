package dev.coldcopy.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** One run of the command line in this JVM: exit status and what it printed. */
public record CliRun(int exit, String out, String err) {

    public static CliRun coldcopy(String... args) {
        CommandLine cli = ColdcopyCommand.newCommandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new CliRun(exit, out.toString(), err.toString());
    }
}
