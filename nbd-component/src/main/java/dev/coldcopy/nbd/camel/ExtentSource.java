package dev.coldcopy.nbd.camel;

import dev.coldcopy.nbd.protocol.Extent;
import java.io.IOException;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/** Block status for several contexts over a range; {@code NbdClient::blockStatus} is one. */
@FunctionalInterface
public interface ExtentSource {
    Map<String, List<Extent>> blockStatus(Collection<String> contexts, long offset, long length) throws IOException;
}
