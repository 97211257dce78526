package dev.coldcopy.cli;

import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * Turns a failed command into one line on stderr and exit status 1; the stack trace is printed only
 * when {@code COLDCOPY_DEBUG} is set, because users act on the reason, not on the trace.
 */
final class OneLineErrors implements IExecutionExceptionHandler {

    static final int EXIT_FAILURE = 1;

    @Override
    public int handleExecutionException(Exception ex, CommandLine cli, ParseResult parsed) {
        cli.getErr().println("coldcopy " + cli.getCommandName() + ": " + reason(ex));
        if (System.getenv("COLDCOPY_DEBUG") != null) {
            ex.printStackTrace(cli.getErr());
        }
        return EXIT_FAILURE;
    }

    static String reason(Throwable ex) {
        return dev.coldcopy.service.Reasons.oneLine(ex);
    }
}
