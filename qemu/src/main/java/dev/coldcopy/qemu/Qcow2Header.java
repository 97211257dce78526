package dev.coldcopy.qemu;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

import dev.coldcopy.security.ImageRefusedException;

/**
 * The few fields of a qcow2 header (qemu's docs/interop/qcow2.txt) that name other files, read directly
 * from the image so that a backing file can be judged before any qemu program is allowed to open it.
 * All numbers are big-endian.
 */
public record Qcow2Header(int version, Optional<String> backingFile, Optional<String> backingFormat,
        Optional<String> externalDataFile, boolean hasExternalDataFileBit) {

    /** "QFI\xfb". */
    static final int QCOW2_MAGIC = 0x514649fb;
    /** Version 2 headers end here; version 3 gives its length at {@link #HEADER_LENGTH_OFFSET}. */
    static final int V2_HEADER_LENGTH = 72;
    static final int BACKING_FILE_OFFSET_OFFSET = 8;
    static final int BACKING_FILE_SIZE_OFFSET = 16;
    static final int INCOMPATIBLE_FEATURES_OFFSET = 72;
    static final int HEADER_LENGTH_OFFSET = 100;
    /** Incompatible feature bit 2: the guest data lives in an external data file. */
    static final long INCOMPAT_DATA_FILE = 1L << 2;
    static final int EXT_END = 0x00000000;
    static final int EXT_BACKING_FORMAT = 0xe2792aca;
    static final int EXT_DATA_FILE = 0x44415441;
    /** qemu refuses backing file names longer than this. */
    static final int MAX_BACKING_FILE_SIZE = 1023;
    /** Header extensions live in the first cluster; the smallest cluster is 512 bytes, the largest 2 MiB. */
    private static final int MAX_HEADER_BYTES = 2 << 20;

    /** @return empty if {@code image} does not start with the qcow2 magic */
    public static Optional<Qcow2Header> read(Path image) {
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
            ByteBuffer fixed = readAt(ch, 0, 104);
            if (fixed.remaining() < V2_HEADER_LENGTH || fixed.getInt(0) != QCOW2_MAGIC) {
                return Optional.empty();
            }
            int version = fixed.getInt(4);
            long backingOffset = fixed.getLong(BACKING_FILE_OFFSET_OFFSET);
            long backingSize = Integer.toUnsignedLong(fixed.getInt(BACKING_FILE_SIZE_OFFSET));
            Optional<String> backing = Optional.empty();
            if (backingOffset != 0 && backingSize != 0) {
                if (backingSize > MAX_BACKING_FILE_SIZE) {
                    throw new ImageRefusedException("refused " + image + ": its qcow2 backing file name is " + backingSize + " bytes long");
                }
                ByteBuffer name = readAt(ch, backingOffset, (int) backingSize);
                if (name.remaining() != backingSize) {
                    throw new ImageRefusedException("refused " + image + ": its qcow2 backing file name lies beyond the end of the file");
                }
                backing = Optional.of(StandardCharsets.UTF_8.decode(name).toString());
            }
            boolean dataFileBit = false;
            long headerLength = V2_HEADER_LENGTH;
            if (version >= 3) {
                if (fixed.remaining() < 104) {
                    throw new ImageRefusedException("refused " + image + ": its qcow2 version 3 header is truncated");
                }
                dataFileBit = (fixed.getLong(INCOMPATIBLE_FEATURES_OFFSET) & INCOMPAT_DATA_FILE) != 0;
                headerLength = Integer.toUnsignedLong(fixed.getInt(HEADER_LENGTH_OFFSET));
            }
            Optional<String> format = Optional.empty();
            Optional<String> dataFile = Optional.empty();
            long at = headerLength;
            while (at + 8 <= MAX_HEADER_BYTES) {
                ByteBuffer ext = readAt(ch, at, 8);
                if (ext.remaining() < 8) {
                    break;
                }
                int type = ext.getInt(0);
                long length = Integer.toUnsignedLong(ext.getInt(4));
                if (type == EXT_END || at + 8 + length > MAX_HEADER_BYTES) {
                    break;
                }
                if (type == EXT_BACKING_FORMAT || type == EXT_DATA_FILE) {
                    String value = StandardCharsets.UTF_8.decode(readAt(ch, at + 8, (int) length)).toString();
                    if (type == EXT_BACKING_FORMAT) {
                        format = Optional.of(value);
                    } else {
                        dataFile = Optional.of(value);
                    }
                }
                at += 8 + ((length + 7) & ~7L); // extension data is padded to 8 bytes
            }
            return Optional.of(new Qcow2Header(version, backing, format, dataFile, dataFileBit));
        } catch (IOException e) {
            throw new QemuException("cannot read the header of " + image + ": " + e.getMessage(), e);
        }
    }

    private static ByteBuffer readAt(FileChannel ch, long position, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        while (buf.hasRemaining()) {
            if (ch.read(buf, position + buf.position()) < 0) {
                break;
            }
        }
        return buf.flip();
    }
}
