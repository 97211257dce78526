package dev.coldcopy.cli;

import dev.coldcopy.service.ColdcopyMain;
import dev.coldcopy.service.config.ConfigurationCheck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.camel.main.Main;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description = {
            "Run the service: back up each VM when its \"stopped\" event arrives.",
            "",
            "Events come from the spool directory or POST /events. Each disk goes into the",
            "configured repository; results, dead letters and metrics as configured.",
            "",
            "Embedded defaults: spool, results, dead letters and a file repository under",
            "$COLDCOPY_HOME (root: /var/lib/coldcopy, others: ~/.local/share/coldcopy).",
            "",
            "--check validates the configuration and its routes and prints what the",
            "service would use, without starting anything; exit 1 with the reason when",
            "something is wrong (or a key unknown)."
        })
final class RunCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "DIR",
            description = "Configuration directory: application.properties, application-PROFILE.properties, routes/*.yaml.")
    Path configDir;

    @Option(names = "--profile", paramLabel = "NAME", split = ",",
            description = "Profile(s) to apply: file, s3, sftp, kafka (reads application-NAME.properties; e.g. --profile s3,kafka).")
    List<String> profiles = new ArrayList<>();

    @Option(names = "-D", paramLabel = "KEY=VALUE", mapFallbackValue = "",
            description = "Override one setting, e.g. -Dcoldcopy.repository=file:/backups (the strongest source).")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Option(names = "--check", description = "Validate the configuration and routes, start nothing.")
    boolean check;

    @Override
    public Integer call() throws Exception {
        if (configDir != null && !Files.isDirectory(configDir)) {
            throw new IllegalArgumentException("configuration directory " + configDir + " does not exist");
        }
        if (check) {
            ConfigurationCheck.Report report = ConfigurationCheck.run(Optional.ofNullable(configDir), profiles, overrides);
            // "configuration OK" only when nothing is wrong: a warning makes the verdict (and the exit status) a failure
            report.lines().stream().map(l -> report.warnings().isEmpty() || !l.equals("configuration OK") ? l
                    : "configuration has " + report.warnings().size() + " problem(s), listed below")
                    .forEach(spec.commandLine().getOut()::println);
            report.warnings().forEach(w -> spec.commandLine().getErr().println("coldcopy run --check: " + w));
            return report.warnings().isEmpty() ? 0 : OneLineErrors.EXIT_FAILURE;
        }
        Main main = new ColdcopyMain(Optional.ofNullable(configDir), profiles, overrides).asService().build();
        main.run();
        return main.getExitCode();
    }
}
