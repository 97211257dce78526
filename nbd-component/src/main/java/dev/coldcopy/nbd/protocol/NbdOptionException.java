package dev.coldcopy.nbd.protocol;

/** The server refused an option during the handshake (an NBD_REP_ERR_* reply). */
public class NbdOptionException extends NbdException {
    private static final long serialVersionUID = 1L;

    private final String option;
    private final String replyType;
    private final String serverMessage;

    public NbdOptionException(String option, String what, String replyType, String serverMessage) {
        super("server refused " + option + (what == null || what.isEmpty() ? "" : " " + what) + ": " + replyType
                + (serverMessage == null || serverMessage.isEmpty() ? "" : ": " + serverMessage));
        this.option = option;
        this.replyType = replyType;
        this.serverMessage = serverMessage;
    }

    /** A refusal with a message of its own, for refusals better explained in the user's terms than the protocol's. */
    public static NbdOptionException explained(String message, String option, String replyType, String serverMessage) {
        return new NbdOptionException(message, option, replyType, serverMessage, true);
    }

    private NbdOptionException(String message, String option, String replyType, String serverMessage, boolean explained) {
        super(message);
        this.option = option;
        this.replyType = replyType;
        this.serverMessage = serverMessage;
    }

    /** The option name, e.g. {@code NBD_OPT_GO}. */
    public String option() {
        return option;
    }

    /** The reply type name, e.g. {@code NBD_REP_ERR_UNKNOWN}. */
    public String replyType() {
        return replyType;
    }

    /** The server's message text, possibly empty. */
    public String serverMessage() {
        return serverMessage;
    }
}
