package dev.coldcopy.nbd.protocol;

/**
 * Protocol constants, named exactly as in the NBD specification ({@code doc/proto.md}).
 * All wire integers are big-endian.
 */
public final class NbdProtocol {
    private NbdProtocol() {
    }

    // --- handshake magics
    public static final long NBDMAGIC = 0x4e42444d41474943L;
    public static final long IHAVEOPT = 0x49484156454F5054L;
    /** Second magic of the oldstyle handshake, which we refuse. */
    public static final long NBD_OLDSTYLE_MAGIC = 0x0000420281861253L;
    public static final long NBD_REP_MAGIC = 0x0003e889045565a9L;

    // --- handshake flags (server) and client flags
    public static final int NBD_FLAG_FIXED_NEWSTYLE = 1;
    public static final int NBD_FLAG_NO_ZEROES = 1 << 1;
    public static final int NBD_FLAG_C_FIXED_NEWSTYLE = 1;
    public static final int NBD_FLAG_C_NO_ZEROES = 1 << 1;

    // --- options
    public static final int NBD_OPT_EXPORT_NAME = 1;
    public static final int NBD_OPT_ABORT = 2;
    public static final int NBD_OPT_LIST = 3;
    public static final int NBD_OPT_STARTTLS = 5;
    public static final int NBD_OPT_INFO = 6;
    public static final int NBD_OPT_GO = 7;
    public static final int NBD_OPT_STRUCTURED_REPLY = 8;
    public static final int NBD_OPT_LIST_META_CONTEXT = 9;
    public static final int NBD_OPT_SET_META_CONTEXT = 10;
    public static final int NBD_OPT_EXTENDED_HEADERS = 11;

    // --- option replies
    public static final int NBD_REP_ACK = 1;
    public static final int NBD_REP_SERVER = 2;
    public static final int NBD_REP_INFO = 3;
    public static final int NBD_REP_META_CONTEXT = 4;
    public static final int NBD_REP_FLAG_ERROR = 1 << 31;
    public static final int NBD_REP_ERR_UNSUP = NBD_REP_FLAG_ERROR | 1;
    public static final int NBD_REP_ERR_POLICY = NBD_REP_FLAG_ERROR | 2;
    public static final int NBD_REP_ERR_INVALID = NBD_REP_FLAG_ERROR | 3;
    public static final int NBD_REP_ERR_PLATFORM = NBD_REP_FLAG_ERROR | 4;
    public static final int NBD_REP_ERR_TLS_REQD = NBD_REP_FLAG_ERROR | 5;
    public static final int NBD_REP_ERR_UNKNOWN = NBD_REP_FLAG_ERROR | 6;
    public static final int NBD_REP_ERR_SHUTDOWN = NBD_REP_FLAG_ERROR | 7;
    public static final int NBD_REP_ERR_BLOCK_SIZE_REQD = NBD_REP_FLAG_ERROR | 8;
    public static final int NBD_REP_ERR_TOO_BIG = NBD_REP_FLAG_ERROR | 9;
    public static final int NBD_REP_ERR_EXT_HEADER_REQD = NBD_REP_FLAG_ERROR | 10;

    // --- info types (NBD_OPT_INFO / NBD_OPT_GO)
    public static final int NBD_INFO_EXPORT = 0;
    public static final int NBD_INFO_NAME = 1;
    public static final int NBD_INFO_DESCRIPTION = 2;
    public static final int NBD_INFO_BLOCK_SIZE = 3;

    // --- transmission flags
    public static final int NBD_FLAG_HAS_FLAGS = 1;
    public static final int NBD_FLAG_READ_ONLY = 1 << 1;
    public static final int NBD_FLAG_SEND_FLUSH = 1 << 2;
    public static final int NBD_FLAG_SEND_FUA = 1 << 3;
    public static final int NBD_FLAG_ROTATIONAL = 1 << 4;
    public static final int NBD_FLAG_SEND_TRIM = 1 << 5;
    public static final int NBD_FLAG_SEND_WRITE_ZEROES = 1 << 6;
    public static final int NBD_FLAG_SEND_DF = 1 << 7;
    public static final int NBD_FLAG_CAN_MULTI_CONN = 1 << 8;
    public static final int NBD_FLAG_SEND_RESIZE = 1 << 9;
    public static final int NBD_FLAG_SEND_CACHE = 1 << 10;
    public static final int NBD_FLAG_SEND_FAST_ZERO = 1 << 11;

    // --- transmission
    public static final int NBD_REQUEST_MAGIC = 0x25609513;
    public static final int NBD_EXTENDED_REQUEST_MAGIC = 0x21e41c71;
    public static final int NBD_SIMPLE_REPLY_MAGIC = 0x67446698;
    public static final int NBD_STRUCTURED_REPLY_MAGIC = 0x668e33ef;
    public static final int NBD_EXTENDED_REPLY_MAGIC = 0x6e8a278c;

    public static final int NBD_CMD_READ = 0;
    public static final int NBD_CMD_WRITE = 1;
    public static final int NBD_CMD_DISC = 2;
    public static final int NBD_CMD_FLUSH = 3;
    public static final int NBD_CMD_TRIM = 4;
    public static final int NBD_CMD_CACHE = 5;
    public static final int NBD_CMD_WRITE_ZEROES = 6;
    public static final int NBD_CMD_BLOCK_STATUS = 7;

    public static final int NBD_CMD_FLAG_FUA = 1;
    public static final int NBD_CMD_FLAG_NO_HOLE = 1 << 1;
    public static final int NBD_CMD_FLAG_DF = 1 << 2;
    public static final int NBD_CMD_FLAG_REQ_ONE = 1 << 3;
    public static final int NBD_CMD_FLAG_FAST_ZERO = 1 << 4;

    public static final int NBD_REPLY_FLAG_DONE = 1;

    public static final int NBD_REPLY_TYPE_NONE = 0;
    public static final int NBD_REPLY_TYPE_OFFSET_DATA = 1;
    public static final int NBD_REPLY_TYPE_OFFSET_HOLE = 2;
    public static final int NBD_REPLY_TYPE_BLOCK_STATUS = 5;
    public static final int NBD_REPLY_TYPE_BLOCK_STATUS_EXT = 6;
    public static final int NBD_REPLY_TYPE_ERROR = (1 << 15) | 1;
    public static final int NBD_REPLY_TYPE_ERROR_OFFSET = (1 << 15) | 2;

    // --- base:allocation and qemu:dirty-bitmap flags
    public static final int NBD_STATE_HOLE = 1;
    public static final int NBD_STATE_ZERO = 2;
    public static final int NBD_STATE_DIRTY = 1;

    // --- errors
    public static final int NBD_EPERM = 1;
    public static final int NBD_EIO = 5;
    public static final int NBD_ENOMEM = 12;
    public static final int NBD_EINVAL = 22;
    public static final int NBD_ENOSPC = 28;
    public static final int NBD_EOVERFLOW = 75;
    public static final int NBD_ENOTSUP = 95;
    public static final int NBD_ESHUTDOWN = 108;

    public static final int DEFAULT_PORT = 10809;

    public static String optionName(int option) {
        return switch (option) {
            case NBD_OPT_EXPORT_NAME -> "NBD_OPT_EXPORT_NAME";
            case NBD_OPT_ABORT -> "NBD_OPT_ABORT";
            case NBD_OPT_LIST -> "NBD_OPT_LIST";
            case NBD_OPT_STARTTLS -> "NBD_OPT_STARTTLS";
            case NBD_OPT_INFO -> "NBD_OPT_INFO";
            case NBD_OPT_GO -> "NBD_OPT_GO";
            case NBD_OPT_STRUCTURED_REPLY -> "NBD_OPT_STRUCTURED_REPLY";
            case NBD_OPT_LIST_META_CONTEXT -> "NBD_OPT_LIST_META_CONTEXT";
            case NBD_OPT_SET_META_CONTEXT -> "NBD_OPT_SET_META_CONTEXT";
            case NBD_OPT_EXTENDED_HEADERS -> "NBD_OPT_EXTENDED_HEADERS";
            default -> "NBD_OPT_" + option;
        };
    }

    public static String replyTypeName(int type) {
        return switch (type) {
            case NBD_REP_ACK -> "NBD_REP_ACK";
            case NBD_REP_SERVER -> "NBD_REP_SERVER";
            case NBD_REP_INFO -> "NBD_REP_INFO";
            case NBD_REP_META_CONTEXT -> "NBD_REP_META_CONTEXT";
            case NBD_REP_ERR_UNSUP -> "NBD_REP_ERR_UNSUP";
            case NBD_REP_ERR_POLICY -> "NBD_REP_ERR_POLICY";
            case NBD_REP_ERR_INVALID -> "NBD_REP_ERR_INVALID";
            case NBD_REP_ERR_PLATFORM -> "NBD_REP_ERR_PLATFORM";
            case NBD_REP_ERR_TLS_REQD -> "NBD_REP_ERR_TLS_REQD";
            case NBD_REP_ERR_UNKNOWN -> "NBD_REP_ERR_UNKNOWN";
            case NBD_REP_ERR_SHUTDOWN -> "NBD_REP_ERR_SHUTDOWN";
            case NBD_REP_ERR_BLOCK_SIZE_REQD -> "NBD_REP_ERR_BLOCK_SIZE_REQD";
            case NBD_REP_ERR_TOO_BIG -> "NBD_REP_ERR_TOO_BIG";
            case NBD_REP_ERR_EXT_HEADER_REQD -> "NBD_REP_ERR_EXT_HEADER_REQD";
            default -> "NBD_REP_" + Integer.toHexString(type);
        };
    }

    public static String commandName(int command) {
        return switch (command) {
            case NBD_CMD_READ -> "NBD_CMD_READ";
            case NBD_CMD_WRITE -> "NBD_CMD_WRITE";
            case NBD_CMD_DISC -> "NBD_CMD_DISC";
            case NBD_CMD_FLUSH -> "NBD_CMD_FLUSH";
            case NBD_CMD_TRIM -> "NBD_CMD_TRIM";
            case NBD_CMD_CACHE -> "NBD_CMD_CACHE";
            case NBD_CMD_WRITE_ZEROES -> "NBD_CMD_WRITE_ZEROES";
            case NBD_CMD_BLOCK_STATUS -> "NBD_CMD_BLOCK_STATUS";
            default -> "NBD_CMD_" + command;
        };
    }

    public static String errorName(int error) {
        return switch (error) {
            case NBD_EPERM -> "EPERM";
            case NBD_EIO -> "EIO";
            case NBD_ENOMEM -> "ENOMEM";
            case NBD_EINVAL -> "EINVAL";
            case NBD_ENOSPC -> "ENOSPC";
            case NBD_EOVERFLOW -> "EOVERFLOW";
            case NBD_ENOTSUP -> "ENOTSUP";
            case NBD_ESHUTDOWN -> "ESHUTDOWN";
            default -> "error " + Integer.toUnsignedString(error);
        };
    }

    public static String errorDescription(int error) {
        return switch (error) {
            case NBD_EPERM -> "Operation not permitted";
            case NBD_EIO -> "Input/output error";
            case NBD_ENOMEM -> "Cannot allocate memory";
            case NBD_EINVAL -> "Invalid argument";
            case NBD_ENOSPC -> "No space left on device";
            case NBD_EOVERFLOW -> "Value too large";
            case NBD_ENOTSUP -> "Operation not supported";
            case NBD_ESHUTDOWN -> "Server is shutting down";
            default -> "unknown error";
        };
    }
}
