package dev.coldcopy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The help texts as a user reads them: whole sentences, no line broken in the middle by picocli. */
class HelpTextTest {

    @Test
    void everyCommandSummaryIsOneWholeSentenceOnOneLineOfTheTopLevelHelp() {
        CliRun top = CliRun.coldcopy("--help");
        assertThat(top.exit()).isZero();
        List<String> lines = top.out().lines().toList();
        CommandLine cli = ColdcopyCommand.newCommandLine();
        for (var e : cli.getSubcommands().entrySet()) {
            if (e.getKey().equals("help")) {
                continue;
            }
            String summary = e.getValue().getCommandSpec().usageMessage().description()[0];
            assertThat(summary).as(e.getKey()).endsWith(".");
            // the listing line holds the whole summary, and no continuation line follows it
            int at = -1;
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).startsWith("  " + e.getKey() + " ")) {
                    at = i;
                }
            }
            assertThat(at).as(e.getKey() + " listed").isNotNegative();
            assertThat(lines.get(at)).as(e.getKey()).endsWith(summary);
            assertThat(lines.get(at + 1)).as(e.getKey() + " summary wraps").matches("  \\S.*|\\S.*");
        }
    }

    @Test
    void noDescriptionLineIsWrappedByPicocli() {
        CommandLine cli = ColdcopyCommand.newCommandLine();
        int width = cli.getCommandSpec().usageMessage().width();
        checkDescriptions(cli, List.of(), width);
    }

    /** Every description line of every command and nested command fits, and is printed unbroken. */
    private static void checkDescriptions(CommandLine parent, List<String> path, int width) {
        for (var e : parent.getSubcommands().entrySet()) {
            if (e.getKey().equals("help")) {
                continue; // picocli's own
            }
            List<String> args = new java.util.ArrayList<>(path);
            args.add(e.getKey());
            String[] description = e.getValue().getCommandSpec().usageMessage().description();
            assertThat(description[0]).as(args + " summary").endsWith(".");
            for (String line : description) {
                assertThat(line.length()).as(args + ": " + line).isLessThan(width);
            }
            List<String> withHelp = new java.util.ArrayList<>(args);
            withHelp.add("--help");
            String help = CliRun.coldcopy(withHelp.toArray(new String[0])).out();
            for (String line : description) {
                assertThat(help).as(args.toString()).contains(line);
            }
            checkDescriptions(e.getValue(), args, width);
        }
    }
}
