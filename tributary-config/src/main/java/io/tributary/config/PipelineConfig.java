package io.tributary.config;

import static java.util.Objects.requireNonNull;

import io.tributary.spi.TableId;
import java.util.Map;

/**
 * A whole pipeline definition, parsed and validated from YAML by {@link ConfigLoader}. Immutable.
 */
public record PipelineConfig(
        String name,
        SourceConfig source,
        LakeConfig lake,
        ModelsConfig models,
        CommitConfig commit,
        Map<TableId, TableOptions> tableOptions,
        MaintenanceConfig maintenance) {

    public PipelineConfig {
        requireNonNull(name, "name is null");
        requireNonNull(source, "source is null");
        requireNonNull(lake, "lake is null");
        requireNonNull(models, "models is null");
        requireNonNull(commit, "commit is null");
        tableOptions = Map.copyOf(requireNonNull(tableOptions, "tableOptions is null"));
        requireNonNull(maintenance, "maintenance is null");
    }

    /** A pipeline with the default {@link MaintenanceConfig}. */
    public PipelineConfig(String name, SourceConfig source, LakeConfig lake, ModelsConfig models, CommitConfig commit,
            Map<TableId, TableOptions> tableOptions) {
        this(name, source, lake, models, commit, tableOptions, MaintenanceConfig.DEFAULT);
    }

    public TableOptions optionsFor(TableId table) {
        return tableOptions.getOrDefault(table, TableOptions.DEFAULT);
    }

    /** Replaces every secret's clear value in {@code text} with a mask. */
    public String mask(String text) {
        return source.secret().map(p -> p.mask(text)).orElse(text);
    }
}
