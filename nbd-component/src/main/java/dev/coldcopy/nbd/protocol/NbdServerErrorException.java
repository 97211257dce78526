package dev.coldcopy.nbd.protocol;

/** A transmission command failed on the server (an error reply carrying an errno). */
public class NbdServerErrorException extends NbdException {
    private static final long serialVersionUID = 1L;

    private final String command;
    private final String errorName;
    private final int error;
    private final long offset;
    private final long length;

    public NbdServerErrorException(int command, int error, long offset, long length, String serverMessage) {
        super(NbdProtocol.commandName(command) + " at offset " + offset + " (" + length + " bytes) failed on the server: "
                + NbdProtocol.errorName(error) + " (" + NbdProtocol.errorDescription(error) + ")"
                + (serverMessage == null || serverMessage.isEmpty() ? "" : ": " + serverMessage));
        this.command = NbdProtocol.commandName(command);
        this.errorName = NbdProtocol.errorName(error);
        this.error = error;
        this.offset = offset;
        this.length = length;
    }

    /** Copy with the current stack trace (the original, thrown on the reader thread, becomes the cause). */
    NbdServerErrorException(NbdServerErrorException original) {
        super(original.getMessage(), original);
        this.command = original.command;
        this.errorName = original.errorName;
        this.error = original.error;
        this.offset = original.offset;
        this.length = original.length;
    }

    /** The same failure with words in front saying what the command was for (e.g. the read of a read-modify-write). */
    NbdServerErrorException(String purpose, NbdServerErrorException original) {
        super(purpose + ": " + original.getMessage(), original);
        this.command = original.command;
        this.errorName = original.errorName;
        this.error = original.error;
        this.offset = original.offset;
        this.length = original.length;
    }

    public String command() {
        return command;
    }

    /** e.g. {@code EIO}. */
    public String errorName() {
        return errorName;
    }

    public int error() {
        return error;
    }

    /** The failing offset: the server's (ERROR_OFFSET) when given, else the request's. */
    public long offset() {
        return offset;
    }

    public long length() {
        return length;
    }
}
