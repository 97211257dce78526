package dev.coldcopy.cli;

import dev.coldcopy.service.ColdcopyMain;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description = {
            "Run the service: back up each VM whose \"stopped\" event arrives (spool or POST /events).",
            "",
            "Each disk goes into the configured repository; results, dead letters and metrics as configured.",
            "",
            "Embedded defaults: spool, results, dead letters and a file repository under",
            "$COLDCOPY_HOME (root: /var/lib/coldcopy, others: ~/.local/share/coldcopy)."
        })
final class RunCommand implements Callable<Integer> {

    @Option(names = "--config", paramLabel = "DIR",
            description = "Configuration directory: application.properties, application-PROFILE.properties, routes/*.yaml.")
    Path configDir;

    @Option(names = "--profile", paramLabel = "NAME", split = ",",
            description = "Profile(s) to apply: file, s3, sftp (reads application-NAME.properties).")
    List<String> profiles = new ArrayList<>();

    @Option(names = "-D", paramLabel = "KEY=VALUE", mapFallbackValue = "",
            description = "Override one setting, e.g. -Dcoldcopy.repository=file:/backups.")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        if (configDir != null && !Files.isDirectory(configDir)) {
            throw new IllegalArgumentException("configuration directory " + configDir + " does not exist");
        }
        new ColdcopyMain(Optional.ofNullable(configDir), profiles, overrides).build().run();
        return 0;
    }
}
