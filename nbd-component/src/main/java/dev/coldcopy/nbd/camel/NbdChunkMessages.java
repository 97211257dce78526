package dev.coldcopy.nbd.camel;

import java.io.Closeable;
import java.util.Iterator;
import java.util.Map;
import org.apache.camel.CamelContext;
import org.apache.camel.Message;
import org.apache.camel.support.DefaultMessage;

/** Chunks as Camel messages: body the bytes (null unless DATA), the chunk's facts in headers. */
final class NbdChunkMessages {

    private NbdChunkMessages() {}

    static void fill(Message message, NbdChunk chunk) {
        message.setBody(chunk.data());
        message.setHeader(NbdConstants.OFFSET, chunk.offset());
        message.setHeader(NbdConstants.LENGTH, (long) chunk.length());
        message.setHeader(NbdConstants.EXPORT_SIZE, chunk.exportSize());
        message.setHeader(NbdConstants.CHUNK_KIND, chunk.kind().name());
        message.setHeader(NbdConstants.CHUNK_INDEX, chunk.index());
        message.setHeader(NbdConstants.LAST_CHUNK, chunk.last());
    }

    /**
     * Wraps a chunk iterator so it yields messages carrying {@code inherited} headers (minus the ones that
     * name an export or operation, so a following nbd: producer is not redirected) plus the chunk headers.
     */
    static Iterator<Message> messages(CamelContext context, NbdChunkIterator chunks, Map<String, Object> inherited) {
        return new MessageIterator(context, chunks, inherited);
    }

    private static final class MessageIterator implements Iterator<Message>, Closeable {
        private final CamelContext context;
        private final NbdChunkIterator chunks;
        private final Map<String, Object> inherited;

        MessageIterator(CamelContext context, NbdChunkIterator chunks, Map<String, Object> inherited) {
            this.context = context;
            this.chunks = chunks;
            this.inherited = inherited;
        }

        @Override
        public boolean hasNext() {
            return chunks.hasNext();
        }

        @Override
        public Message next() {
            NbdChunk chunk = chunks.next();
            Message message = new DefaultMessage(context);
            message.getHeaders().putAll(inherited);
            message.removeHeader(NbdConstants.URI);
            message.removeHeader(NbdConstants.OPERATION);
            message.removeHeader(NbdConstants.META_CONTEXT);
            fill(message, chunk);
            if (chunk.last()) {
                message.setHeader(NbdConstants.CHUNK_COUNT, chunks.chunkCount());
            }
            return message;
        }

        @Override
        public void close() {
            chunks.close();
        }

        @Override
        public String toString() {
            return "NbdChunkMessages[" + chunks.chunkCount() + " chunks so far]";
        }
    }
}
