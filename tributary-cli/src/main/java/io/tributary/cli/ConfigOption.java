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

    /** Loads what reading the lake needs: the source's secrets and references are not resolved (see {@link ConfigLoader#loadLakeSettings}). */
    PipelineConfig loadLakeSettings() {
        return new ConfigLoader().loadLakeSettings(config);
    }

    /**
     * Loads the configuration of a lake that must already hold tables.
     *
     * @param cannot what the command cannot do without them, e.g. "Cannot query the lake"
     * @throws io.tributary.spi.TributaryException TABLE_NOT_FOUND when no pipeline has written the lake yet
     */
    PipelineConfig loadWrittenLake(String cannot) {
        PipelineConfig loaded = loadLakeSettings();
        // A shared catalog (PostgreSQL, REST) answers for itself when the lake is opened.
        if (loaded.lake().catalog().isEmbedded()
                && !java.nio.file.Files.exists(loaded.lake().localWarehouse().resolve(io.tributary.lake.catalog.LakeCatalog.CATALOG_FILE))) {
            throw new io.tributary.spi.TributaryException(io.tributary.spi.ErrorCode.TABLE_NOT_FOUND, cannot + ": the lake at "
                    + loaded.lake().warehouse() + " has no tables yet. Run 'tributary run -c " + config + "' first");
        }
        return loaded;
    }
}
