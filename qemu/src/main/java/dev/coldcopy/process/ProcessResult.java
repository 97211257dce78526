package dev.coldcopy.process;

import java.util.List;

/** What a finished program left: its exit status and both output streams (UTF-8 text). */
public record ProcessResult(List<String> command, int exitCode, String stdout, String stderr) {

    public boolean succeeded() {
        return exitCode == 0;
    }

    /** stderr folded onto one line, for exception messages. */
    public String stderrOneLine() {
        return oneLine(stderr);
    }

    public static String oneLine(String text) {
        return text.strip().replaceAll("\\s*\\R\\s*", "; ");
    }
}
