package dev.coldcopy.nbd.protocol;

import static dev.coldcopy.nbd.protocol.NbdProtocol.*;

import java.util.Map;

/** What the handshake negotiated for an export. {@code metaContextIds} maps context name to the server's id. */
public record ExportInfo(String name, long size, int transmissionFlags, BlockSize blockSize,
                         Map<String, Integer> metaContextIds, boolean structuredReplies, boolean extendedHeaders) {

    public ExportInfo {
        metaContextIds = Map.copyOf(metaContextIds);
    }

    private boolean has(int flag) {
        return (transmissionFlags & flag) != 0;
    }

    public boolean readOnly() {
        return has(NBD_FLAG_READ_ONLY);
    }

    public boolean canFlush() {
        return has(NBD_FLAG_SEND_FLUSH);
    }

    public boolean canFua() {
        return has(NBD_FLAG_SEND_FUA);
    }

    public boolean canTrim() {
        return has(NBD_FLAG_SEND_TRIM);
    }

    public boolean canWriteZeroes() {
        return has(NBD_FLAG_SEND_WRITE_ZEROES);
    }

    public boolean canDf() {
        return has(NBD_FLAG_SEND_DF);
    }

    public boolean canMultiConn() {
        return has(NBD_FLAG_CAN_MULTI_CONN);
    }

    public boolean canCache() {
        return has(NBD_FLAG_SEND_CACHE);
    }

    public boolean canFastZero() {
        return has(NBD_FLAG_SEND_FAST_ZERO);
    }

    public boolean rotational() {
        return has(NBD_FLAG_ROTATIONAL);
    }
}
