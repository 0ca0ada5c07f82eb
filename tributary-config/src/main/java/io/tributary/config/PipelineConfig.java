package io.tributary.config;

import static java.util.Objects.requireNonNull;

import io.tributary.spi.TableId;
import java.util.Map;

/**
 * A whole pipeline definition, parsed and validated from YAML by {@link ConfigLoader}. Immutable.
 * A pipeline captures into the lake, or, with a {@link #sink()}, into Kafka only (capture-only: no
 * lake, {@link #hasLake()} false).
 */
public record PipelineConfig(
        String name,
        SourceConfig source,
        LakeConfig lake,
        ModelsConfig models,
        CommitConfig commit,
        Map<TableId, TableOptions> tableOptions,
        MaintenanceConfig maintenance,
        java.util.Optional<KafkaSinkConfig> sink,
        java.util.Optional<LakeCommitsConfig> lakeCommits) {

    /**
     * @throws IllegalArgumentException when there is neither a lake nor a sink, or both
     */
    public PipelineConfig {
        requireNonNull(name, "name is null");
        requireNonNull(source, "source is null");
        requireNonNull(sink, "sink is null");
        if ((lake == null) == sink.isEmpty()) {
            throw new IllegalArgumentException("A pipeline writes either a lake or a sink, got " + (lake == null ? "neither" : "both"));
        }
        requireNonNull(models, "models is null");
        requireNonNull(commit, "commit is null");
        tableOptions = Map.copyOf(requireNonNull(tableOptions, "tableOptions is null"));
        requireNonNull(maintenance, "maintenance is null");
        requireNonNull(lakeCommits, "lakeCommits is null");
    }

    /** A pipeline into the lake. */
    public PipelineConfig(String name, SourceConfig source, LakeConfig lake, ModelsConfig models, CommitConfig commit,
            Map<TableId, TableOptions> tableOptions, MaintenanceConfig maintenance) {
        this(name, source, requireNonNull(lake, "lake is null"), models, commit, tableOptions, maintenance, java.util.Optional.empty(),
                java.util.Optional.empty());
    }

    /**
     * The lake's settings.
     *
     * @throws io.tributary.spi.TributaryException INVALID_CONFIG for a capture-only pipeline, which has no lake
     */
    public LakeConfig lake() {
        if (lake == null) {
            throw new io.tributary.spi.TributaryException(io.tributary.spi.ErrorCode.INVALID_CONFIG, "Pipeline " + name
                    + " has no lake section: it captures to Kafka only (sink); read the lake with the configuration of a pipeline that writes it");
        }
        return lake;
    }

    /** Whether the pipeline writes a lake (false: capture-only, into its {@link #sink()}). */
    public boolean hasLake() {
        return lake != null;
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
        String masked = source.secret().map(p -> p.mask(text)).orElse(text);
        java.util.List<Map<String, Secret>> kafkaProperties = new java.util.ArrayList<>();
        sink.ifPresent(s -> kafkaProperties.add(s.properties()));
        lakeCommits.ifPresent(c -> kafkaProperties.add(c.properties()));
        if (source instanceof KafkaSourceConfig kafka) {
            kafkaProperties.add(kafka.properties());
        }
        for (Map<String, Secret> properties : kafkaProperties) {
            for (Secret secret : properties.values()) {
                if (secret.reference().startsWith("${")) {
                    masked = secret.mask(masked);
                }
            }
        }
        return masked;
    }
}
