package io.tributary.config;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/**
 * The {@code lake-commits} section: after each lake commit, an event per table and layer
 * committed (layer, table, snapshot id, position, row counts, commit time) goes to a Kafka topic,
 * so an orchestrator or a dbt run can react to new data without polling the catalog.
 *
 * @param bootstrapServers {@code host:port[,host:port…]}
 * @param topicPrefix      the events go to {@code <topicPrefix>.lake-commits}, or with
 *                         {@code perLayer} to {@code <topicPrefix>.lake-commits.<layer>}
 * @param perLayer         one topic per layer ({@code bronze}, {@code silver}, {@code gold})
 *                         instead of one for all
 * @param properties       further Kafka producer settings (security, SASL, TLS); values may be
 *                         {@code ${env:…}}/{@code ${file:…}} references, masked when printed
 */
public record LakeCommitsConfig(String bootstrapServers, String topicPrefix, boolean perLayer, Map<String, Secret> properties) {
    /** {@code lake-commits.type} of this announcer. */
    public static final String TYPE = "kafka";

    public LakeCommitsConfig {
        requireNonNull(bootstrapServers, "bootstrapServers is null");
        requireNonNull(topicPrefix, "topicPrefix is null");
        properties = Map.copyOf(requireNonNull(properties, "properties is null"));
    }

    /** The topic of {@code layer}'s events: {@code <prefix>.lake-commits[.<layer>]}. */
    public String topic(String layer) {
        return topicPrefix + ".lake-commits" + (perLayer ? "." + layer : "");
    }
}
