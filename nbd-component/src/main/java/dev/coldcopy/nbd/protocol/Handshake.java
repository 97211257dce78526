package dev.coldcopy.nbd.protocol;

import static dev.coldcopy.nbd.protocol.NbdProtocol.*;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;

/**
 * The fixed-newstyle handshake of one connection, as an explicit state machine:
 * <pre>
 * GREETING -> [STARTTLS] -> STRUCTURED_REPLY -> [SET_META_CONTEXT] -> GO --ACK--> READY
 *                                                                      \--UNSUP--> EXPORT_NAME -> READY
 * </pre>
 * The listing operations (LIST, LIST_META_CONTEXT, INFO) reuse the same steps and end with NBD_OPT_ABORT.
 * NBD_OPT_EXTENDED_HEADERS is never requested: the extended framing is not implemented.
 */
final class Handshake {
    /** Option replies larger than this are a broken or hostile server. */
    private static final int MAX_OPTION_REPLY = 16 * 1024 * 1024;

    enum Step { GREETING, STARTTLS, STRUCTURED_REPLY, SET_META_CONTEXT, GO, EXPORT_NAME, READY }

    private final NbdUri uri;
    private final NbdClientOptions options;
    private Wire wire;
    private boolean noZeroes;
    private boolean structured;
    private final Map<String, Integer> contexts = new LinkedHashMap<>();
    private ExportInfo info;
    /** Set after a TLS handshake without a client certificate until the server's first reply arrives. */
    private boolean firstExchangeWithoutCertificate;

    Handshake(Wire wire, NbdUri uri, NbdClientOptions options) {
        this.wire = wire;
        this.uri = uri;
        this.options = options;
    }

    Wire wire() {
        return wire;
    }

    /** Whether the server accepted NBD_OPT_STRUCTURED_REPLY. */
    boolean structured() {
        return structured;
    }

    /** Runs the whole state machine up to transmission; returns what was negotiated. */
    ExportInfo openExport() throws IOException {
        Step step = Step.GREETING;
        while (step != Step.READY) {
            step = switch (step) {
                case GREETING -> greeting();
                case STARTTLS -> startTls();
                case STRUCTURED_REPLY -> structuredReply();
                case SET_META_CONTEXT -> setMetaContext();
                case GO -> go(NBD_OPT_GO);
                case EXPORT_NAME -> exportName();
                case READY -> Step.READY;
            };
        }
        return info;
    }

    /** Greeting and STARTTLS if the URI asks for it: the common start of every session. */
    void begin() throws IOException {
        if (greeting() == Step.STARTTLS) {
            startTls();
        }
    }

    private Step greeting() throws IOException {
        ByteBuffer b = read(18);
        long magic = b.getLong();
        if (magic != NBDMAGIC) {
            throw new NbdProtocolException("not an NBD server: bad greeting magic 0x" + Long.toHexString(magic));
        }
        long second = b.getLong();
        if (second == NBD_OLDSTYLE_MAGIC) {
            throw new NbdProtocolException("server speaks the oldstyle NBD handshake, which is not supported (use a newstyle server)");
        }
        if (second != IHAVEOPT) {
            throw new NbdProtocolException("bad NBD handshake magic 0x" + Long.toHexString(second));
        }
        int serverFlags = b.getShort() & 0xffff;
        if ((serverFlags & NBD_FLAG_FIXED_NEWSTYLE) == 0) {
            throw new NbdProtocolException("server does not support the fixed newstyle handshake");
        }
        noZeroes = (serverFlags & NBD_FLAG_NO_ZEROES) != 0;
        int clientFlags = NBD_FLAG_C_FIXED_NEWSTYLE | (noZeroes ? NBD_FLAG_C_NO_ZEROES : 0);
        ByteBuffer out = ByteBuffer.allocate(4).putInt(clientFlags).flip();
        wire.write(out, null);
        return uri.tls() ? Step.STARTTLS : Step.STRUCTURED_REPLY;
    }

    private Step startTls() throws IOException {
        sendOption(NBD_OPT_STARTTLS, new byte[0]);
        OptionReply r = readReply(NBD_OPT_STARTTLS);
        if (isError(r.type)) {
            // qemu-nbd without --tls-creds answers NBD_REP_ERR_POLICY, nbdkit without --tls NBD_REP_ERR_UNSUP
            throw NbdOptionException.explained("the server does not offer TLS: use nbd://" + hostAndExport()
                    + " without TLS options (it answered NBD_OPT_STARTTLS with " + replyTypeName(r.type) + ")",
                    optionName(NBD_OPT_STARTTLS), replyTypeName(r.type), new String(r.data, StandardCharsets.UTF_8).strip());
        }
        if (r.type != NBD_REP_ACK) {
            throw unexpected(NBD_OPT_STARTTLS, r);
        }
        if (options.tlsPsk() != null) {
            try {
                wire = ((Wire.ChannelWire) wire).startTlsPsk(options.tlsPsk());
            } catch (IOException e) {
                throw new NbdException("TLS-PSK handshake with " + uri.host() + ":" + uri.port() + " as user '"
                        + options.tlsPsk().identity() + "' failed: " + explainPsk(e), e);
            }
            return Step.STRUCTURED_REPLY;
        }
        SSLContext ctx = options.sslContext();
        try {
            if (ctx == null) {
                ctx = SSLContext.getDefault();
            }
            wire = ((Wire.ChannelWire) wire).startTls(ctx, uri.host(), uri.port(), options.verifyHostname());
            firstExchangeWithoutCertificate = !((Wire.TlsWire) wire).sentClientCertificate();
        } catch (IOException e) {
            throw new NbdException("TLS handshake with " + uri.host() + ":" + uri.port() + " failed: " + explainTls(e), e);
        } catch (java.security.GeneralSecurityException e) {
            throw new NbdException("no TLS context available: " + e.getMessage(), e);
        }
        return Step.STRUCTURED_REPLY;
    }

    /**
     * Why a PSK handshake failed. Once the server has picked a PSK cipher suite it is doing PSK, so a failure
     * after that is the key (GnuTLS then sends decrypt_error, bad_record_mac or handshake_failure). A failure
     * before it is a user the server does not know or a server without PSK: both are named, the key first.
     */
    private String explainPsk(IOException e) {
        String m = String.valueOf(e.getMessage());
        String user = options.tlsPsk().identity();
        boolean chosePsk = e instanceof Wire.TlsPskHandshakeException p && p.serverChosePsk();
        if (m.contains("unknown_psk_identity")) {
            return "the server does not know user '" + user + "' (check the username, tlsUsername / CLI --tls-username) (" + m + ")";
        }
        if (chosePsk && (m.contains("decrypt_error") || m.contains("bad_record_mac") || m.contains("handshake_failure"))) {
            return "the server did not accept the key for user '" + user + "' (check the key file and the username) (" + m + ")";
        }
        if (m.contains("decrypt_error") || m.contains("bad_record_mac") || m.contains("handshake_failure")) {
            return "the server did not accept the key for user '" + user + "' (check the key file and the username), "
                    + "or it uses X.509 certificates rather than a pre-shared key (then use tlsCaFile, CLI --tls-ca-file) (" + m + ")";
        }
        return m;
    }

    /** {@code host:port/export} of the URI, for suggesting the other scheme. */
    private String hostAndExport() {
        String h = uri.host() != null && uri.host().contains(":") ? "[" + uri.host() + "]" : uri.host();
        return h + ":" + uri.port() + "/" + uri.exportName();
    }

    /** What to do about a failed TLS handshake, in the user's terms rather than JSSE's. */
    private String explainTls(IOException e) {
        String all = "";
        for (Throwable t = e; t != null; t = t.getCause()) {
            all += " " + t;
        }
        if (all.contains("PKIX path") || all.contains("CertPathBuilderException")) {
            return "the server's certificate is not signed by a CA this client trusts; name the CA certificate that signed it "
                    + "(PEM) with tlsCaFile (CLI: --tls-ca-file)";
        }
        if (all.contains("No subject alternative") || all.contains("No name matching")) {
            return "the server's certificate does not name host '" + uri.host() + "'; connect by a name or address the "
                    + "certificate holds, or set verifyHostname=false (CLI: --tls-no-verify-hostname)";
        }
        if (all.contains("certificate_required") || all.contains("bad_certificate")) {
            return "the server wants a client certificate: give tlsCertFile and tlsKeyFile (CLI: --tls-cert-file, --tls-key-file) "
                    + "(" + e.getMessage() + ")";
        }
        if (all.contains("handshake_failure") || all.contains("insufficient_security") || all.contains("no cipher suites")
                || all.contains("terminated the handshake") || all.contains("Connection reset") || all.contains("Broken pipe")
                || all.contains("EOFException")) {
            // GnuTLS servers with only a pre-shared key hang up on a certificate-only client hello (seen as
            // "terminated the handshake" or "Connection reset", depending on timing)
            return e.getMessage() + "; if the server uses a pre-shared key (nbdkit --tls-psk, qemu tls-creds-psk), give its "
                    + "key file with tlsPskFile (CLI: --tls-psk-file)";
        }
        return e.getMessage();
    }

    Step structuredReply() throws IOException {
        if (!options.structuredReplies()) {
            return Step.GO;
        }
        sendOption(NBD_OPT_STRUCTURED_REPLY, new byte[0]);
        OptionReply r = readReply(NBD_OPT_STRUCTURED_REPLY);
        if (r.type == NBD_REP_ACK) {
            structured = true;
        } else if (r.type == NBD_REP_ERR_TLS_REQD) {
            throw refused(NBD_OPT_STRUCTURED_REPLY, r);
        } else if (isError(r.type)) {
            NbdLog.log().debug("server refused structured replies ({}): using simple replies", replyTypeName(r.type));
        } else {
            throw unexpected(NBD_OPT_STRUCTURED_REPLY, r);
        }
        return structured && !options.metaContexts().isEmpty() ? Step.SET_META_CONTEXT : Step.GO;
    }

    private Step setMetaContext() throws IOException {
        sendOption(NBD_OPT_SET_META_CONTEXT, metaContextRequest(options.metaContexts()));
        while (true) {
            OptionReply r = readReply(NBD_OPT_SET_META_CONTEXT);
            if (r.type == NBD_REP_META_CONTEXT) {
                ByteBuffer d = ByteBuffer.wrap(r.data);
                if (d.remaining() < 4) {
                    throw new NbdProtocolException("NBD_REP_META_CONTEXT reply too short");
                }
                int id = d.getInt();
                contexts.put(utf8(d, d.remaining()), id);
            } else if (r.type == NBD_REP_ACK) {
                break;
            } else if (r.type == NBD_REP_ERR_UNSUP) {
                NbdLog.log().debug("server does not support meta contexts");
                break;
            } else if (isError(r.type)) {
                throw refused(NBD_OPT_SET_META_CONTEXT, r);
            } else {
                throw unexpected(NBD_OPT_SET_META_CONTEXT, r);
            }
        }
        return Step.GO;
    }

    /** GO (or INFO): asks for NBD_INFO_BLOCK_SIZE, which commits us to obey the sizes. */
    Step go(int option) throws IOException {
        byte[] name = uri.exportName().getBytes(StandardCharsets.UTF_8);
        ByteBuffer req = ByteBuffer.allocate(4 + name.length + 2 + 2);
        req.putInt(name.length).put(name).putShort((short) 1).putShort((short) NBD_INFO_BLOCK_SIZE);
        sendOption(option, req.array());
        long size = -1;
        boolean sized = false;
        int flags = 0;
        BlockSize blockSize = BlockSize.DEFAULT;
        while (true) {
            OptionReply r = readReply(option);
            if (r.type == NBD_REP_INFO) {
                ByteBuffer d = ByteBuffer.wrap(r.data);
                if (d.remaining() < 2) {
                    throw new NbdProtocolException("NBD_REP_INFO reply too short");
                }
                int infoType = d.getShort() & 0xffff;
                if (infoType == NBD_INFO_EXPORT) {
                    if (d.remaining() < 10) {
                        throw new NbdProtocolException("NBD_INFO_EXPORT reply too short");
                    }
                    size = d.getLong();
                    flags = d.getShort() & 0xffff;
                    checkSize(size);
                    sized = true;
                } else if (infoType == NBD_INFO_BLOCK_SIZE) {
                    if (d.remaining() < 12) {
                        throw new NbdProtocolException("NBD_INFO_BLOCK_SIZE reply too short");
                    }
                    int min = d.getInt();
                    int pref = d.getInt();
                    int max = d.getInt();
                    try {
                        blockSize = BlockSize.fromWire(min, pref, max);
                    } catch (IllegalArgumentException e) {
                        throw new NbdProtocolException("server sent invalid block sizes: " + e.getMessage());
                    }
                }
                // NBD_INFO_NAME / NBD_INFO_DESCRIPTION and unknown infos are not needed
            } else if (r.type == NBD_REP_ACK) {
                break;
            } else if (r.type == NBD_REP_ERR_UNSUP && option == NBD_OPT_GO) {
                NbdLog.log().debug("server does not support NBD_OPT_GO: falling back to NBD_OPT_EXPORT_NAME");
                return Step.EXPORT_NAME;
            } else if (isError(r.type)) {
                throw refused(option, r);
            } else {
                throw unexpected(option, r);
            }
        }
        if (!sized) {
            throw new NbdProtocolException(optionName(option) + " finished without NBD_INFO_EXPORT");
        }
        info = new ExportInfo(uri.exportName(), size, flags, blockSize, contexts, structured, false);
        return Step.READY;
    }

    /**
     * The export size is an unsigned 64-bit field; offsets in this client are Java longs, so sizes of
     * 2^63 bytes and more (no real server offers them: nbdkit and qemu stop at 2^63 - 1) are refused plainly.
     */
    private void checkSize(long size) throws NbdProtocolException {
        if (size < 0) {
            throw new NbdProtocolException("export '" + uri.exportName() + "' is " + Long.toUnsignedString(size)
                    + " bytes, more than the largest size this client handles (" + Long.MAX_VALUE + ")");
        }
    }

    private Step exportName() throws IOException {
        sendOption(NBD_OPT_EXPORT_NAME, uri.exportName().getBytes(StandardCharsets.UTF_8));
        ByteBuffer b;
        try {
            b = read(noZeroes ? 10 : 10 + 124);
        } catch (EOFException e) {
            // with EXPORT_NAME the only way a server can refuse is to hang up
            throw new NbdOptionException(optionName(NBD_OPT_EXPORT_NAME), "for export '" + uri.exportName() + "'",
                    "connection closed", "the server hung up (unknown export?)");
        }
        long size = b.getLong();
        int flags = b.getShort() & 0xffff;
        checkSize(size);
        info = new ExportInfo(uri.exportName(), size, flags, BlockSize.DEFAULT, contexts, structured, false);
        return Step.READY;
    }

    /** NBD_OPT_LIST after {@link #begin()}. */
    List<ExportDescription> list() throws IOException {
        sendOption(NBD_OPT_LIST, new byte[0]);
        List<ExportDescription> result = new ArrayList<>();
        while (true) {
            OptionReply r = readReply(NBD_OPT_LIST);
            if (r.type == NBD_REP_SERVER) {
                ByteBuffer d = ByteBuffer.wrap(r.data);
                if (d.remaining() < 4) {
                    throw new NbdProtocolException("NBD_REP_SERVER reply too short");
                }
                int len = d.getInt(); // unsigned: above 2^31 it reads negative, and is too long either way
                if (len < 0 || len > d.remaining()) {
                    throw new NbdProtocolException("bad export name length in NBD_REP_SERVER");
                }
                String name = utf8(d, len);
                result.add(new ExportDescription(name, utf8(d, d.remaining())));
            } else if (r.type == NBD_REP_ACK) {
                return result;
            } else if (isError(r.type)) {
                throw refused(NBD_OPT_LIST, r);
            } else {
                throw unexpected(NBD_OPT_LIST, r);
            }
        }
    }

    /** NBD_OPT_LIST_META_CONTEXT after {@link #begin()} and {@link #structuredReply()}. */
    List<String> listMetaContexts(String query) throws IOException {
        if (!structured) {
            throw new NbdException("server does not support structured replies, so it has no meta contexts");
        }
        sendOption(NBD_OPT_LIST_META_CONTEXT, metaContextRequest(query == null || query.isEmpty() ? List.of() : List.of(query)));
        List<String> result = new ArrayList<>();
        while (true) {
            OptionReply r = readReply(NBD_OPT_LIST_META_CONTEXT);
            if (r.type == NBD_REP_META_CONTEXT) {
                ByteBuffer d = ByteBuffer.wrap(r.data);
                if (d.remaining() < 4) {
                    throw new NbdProtocolException("NBD_REP_META_CONTEXT reply too short");
                }
                d.getInt(); // the id means nothing in a listing
                result.add(utf8(d, d.remaining()));
            } else if (r.type == NBD_REP_ACK) {
                return result;
            } else if (isError(r.type)) {
                throw refused(NBD_OPT_LIST_META_CONTEXT, r);
            } else {
                throw unexpected(NBD_OPT_LIST_META_CONTEXT, r);
            }
        }
    }

    /** NBD_OPT_INFO after {@link #begin()}: the export's facts without entering transmission. */
    ExportInfo info() throws IOException {
        if (go(NBD_OPT_INFO) != Step.READY) {
            throw new NbdException("server does not support NBD_OPT_INFO");
        }
        return info;
    }

    /** Ends the session politely; the server may answer with an ACK or simply hang up. */
    void abort() {
        try {
            sendOption(NBD_OPT_ABORT, new byte[0]);
            readReply(NBD_OPT_ABORT);
        } catch (IOException ignored) {
            // the session is over either way
        }
    }

    private byte[] metaContextRequest(List<String> queries) {
        byte[] name = uri.exportName().getBytes(StandardCharsets.UTF_8);
        List<byte[]> qs = new ArrayList<>();
        int len = 4 + name.length + 4;
        for (String q : queries) {
            byte[] b = q.getBytes(StandardCharsets.UTF_8);
            qs.add(b);
            len += 4 + b.length;
        }
        ByteBuffer d = ByteBuffer.allocate(len);
        d.putInt(name.length).put(name).putInt(qs.size());
        for (byte[] q : qs) {
            d.putInt(q.length).put(q);
        }
        return d.array();
    }

    private void sendOption(int option, byte[] data) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(16).putLong(IHAVEOPT).putInt(option).putInt(data.length).flip();
        try {
            wire.write(h, ByteBuffer.wrap(data));
        } catch (IOException e) {
            throw firstExchangeFailed(e);
        }
    }

    /**
     * A server that verifies clients (nbdkit --tls-verify-peer, qemu verify-peer=on) lets a TLS 1.3 handshake
     * without a client certificate finish, then hangs up: the first exchange after it is where that shows.
     */
    private IOException firstExchangeFailed(IOException e) {
        if (!firstExchangeWithoutCertificate || e instanceof NbdException) {
            return e;
        }
        firstExchangeWithoutCertificate = false;
        return new NbdException("the TLS session with " + uri.host() + ":" + uri.port() + " ended right after the handshake ("
                + e.getMessage() + "): the server probably requires a client certificate; give tlsCertFile and tlsKeyFile "
                + "(CLI: --tls-cert-file, --tls-key-file)", e);
    }

    private record OptionReply(int type, byte[] data) {
    }

    private OptionReply readReply(int option) throws IOException {
        ByteBuffer h;
        try {
            h = read(20);
        } catch (IOException e) {
            throw firstExchangeFailed(e);
        }
        firstExchangeWithoutCertificate = false;
        long magic = h.getLong();
        if (magic != NBD_REP_MAGIC) {
            throw new NbdProtocolException("bad option reply magic 0x" + Long.toHexString(magic) + " to " + optionName(option));
        }
        int replyOption = h.getInt();
        if (replyOption != option) {
            throw new NbdProtocolException("server answered " + optionName(replyOption) + " to " + optionName(option));
        }
        int type = h.getInt();
        int len = h.getInt();
        if (len < 0 || len > MAX_OPTION_REPLY) {
            throw new NbdProtocolException("option reply to " + optionName(option) + " too long: " + Integer.toUnsignedString(len) + " bytes");
        }
        byte[] data = new byte[len];
        wire.readFully(ByteBuffer.wrap(data));
        return new OptionReply(type, data);
    }

    private ByteBuffer read(int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        wire.readFully(b);
        return b.flip();
    }

    private static boolean isError(int type) {
        return (type & NBD_REP_FLAG_ERROR) != 0;
    }

    private NbdOptionException refused(int option, OptionReply r) {
        if (r.type == NBD_REP_ERR_TLS_REQD) {
            String how = uri.transport() == NbdUri.Transport.TCP
                    ? "use nbds://" + hostAndExport() + " (and --tls-ca-file or --tls-psk-file; component: tlsCaFile or tlsPskFile)"
                    : "this client does TLS over TCP only: connect with nbds://HOST:PORT/" + uri.exportName();
            return NbdOptionException.explained("the server requires TLS: " + how + " (it refused " + optionName(option)
                    + " with NBD_REP_ERR_TLS_REQD)", optionName(option), replyTypeName(r.type),
                    new String(r.data, StandardCharsets.UTF_8).strip());
        }
        String what = switch (option) {
            case NBD_OPT_GO, NBD_OPT_INFO, NBD_OPT_SET_META_CONTEXT, NBD_OPT_LIST_META_CONTEXT, NBD_OPT_EXPORT_NAME ->
                    "for export '" + uri.exportName() + "'";
            default -> "";
        };
        return new NbdOptionException(optionName(option), what, replyTypeName(r.type), new String(r.data, StandardCharsets.UTF_8).strip());
    }

    private static NbdProtocolException unexpected(int option, OptionReply r) {
        return new NbdProtocolException("unexpected reply " + replyTypeName(r.type) + " to " + optionName(option));
    }

    private static String utf8(ByteBuffer d, int len) {
        byte[] b = new byte[len];
        d.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
