package io.tributary.cli;

import io.tributary.config.ConfigLoader;
import io.tributary.config.PipelineConfig;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code -c pipeline.yaml} and {@code --debug} options every command shares. */
final class ConfigOption {
    @Option(names = {"-c", "--config"}, required = true, description = "Pipeline configuration file (YAML).")
    Path config;

    @Option(names = "--debug", description = "Print stack traces with errors.")
    boolean debug;

    PipelineConfig load() {
        return new ConfigLoader().load(config);
    }
}
