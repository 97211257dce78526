package dev.coldcopy.cli;

import dev.coldcopy.nbd.camel.ExtentMap;
import dev.coldcopy.nbd.protocol.Extent;
import dev.coldcopy.nbd.protocol.NbdClient;
import dev.coldcopy.nbd.protocol.NbdClientOptions;
import dev.coldcopy.nbd.protocol.NbdUri;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code coldcopy map NBD-URI [--context NAME] [--json]}: prints the extents of an export exactly as
 * {@code nbdinfo --map[=NAME] [--json]} does, for debugging exports and bitmaps.
 */
@Command(
        name = "map",
        mixinStandardHelpOptions = true,
        description = {
            "Print the extents of an NBD export, as `nbdinfo --map` does.",
            "",
            "One line per extent: `offset length flags description`, adjacent extents with equal flags merged."
        })
public final class MapCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "NBD-URI",
            description = "nbd://host[:port]/export, nbds://host[:port]/export or nbd+unix:///export?socket=PATH")
    String uri;

    @Option(names = "--context", paramLabel = "NAME", defaultValue = ExtentMap.BASE_ALLOCATION,
            description = "Meta context to map: base:allocation (default), qemu:dirty-bitmap:NAME, qemu:allocation-depth.")
    String context;

    @Option(names = "--json", description = "Print a JSON array as `nbdinfo --map --json` does.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        NbdUri nbdUri = NbdUri.parse(uri);
        NbdClientOptions options = NbdClientOptions.builder().metaContexts(List.of(context)).build();
        List<Extent> extents;
        try (NbdClient client = NbdClient.connect(nbdUri, options)) {
            if (!client.metaContexts().contains(context)) {
                throw new IOException("server does not offer meta context '" + context + "' on " + nbdUri);
            }
            extents = client.size() == 0 ? List.of() : ExtentMap.merge(client.blockStatus(context, 0, client.size()));
        }
        PrintWriter out = spec.commandLine().getOut();
        out.print(json ? ExtentMap.toJson(context, extents) : ExtentMap.toText(context, extents));
        out.flush();
        return 0;
    }
}
