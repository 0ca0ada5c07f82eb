package io.tributary.config;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/**
 * The {@code sink} section of a capture-only pipeline: change events go to Apache Kafka topics
 * instead of the lake (Debezium-compatible: one topic per table, {@code <topic-prefix>.<schema>.<table>},
 * the Debezium envelope as JSON, keyed by the table's key).
 *
 * @param bootstrapServers  {@code host:port[,host:port…]} ({@code bootstrap.servers})
 * @param topicPrefix       the first part of every topic name, e.g. {@code shop}
 * @param format            how records are written
 * @param partitions        partitions of each topic Tributary creates (a table's events keep their
 *                          order per key: a key always goes to the same partition)
 * @param replicationFactor replicas of each topic Tributary creates; -1: the broker's default
 * @param properties        further Kafka client settings (security, SASL, TLS), passed through
 *                          to the producer, consumer and admin clients; values may be
 *                          {@code ${env:…}}/{@code ${file:…}} references and are masked when printed
 */
public record KafkaSinkConfig(String bootstrapServers, String topicPrefix, Format format, int partitions, short replicationFactor,
                              Map<String, Secret> properties) {
    /** {@code sink.type} of this sink. */
    public static final String TYPE = "kafka";

    /** The record format ({@code sink.format}). */
    public enum Format {
        /** Kafka Connect's JSON converter with embedded schemas ({@code schemas.enable=true}): {@code {"schema": …, "payload": …}}. */
        DEBEZIUM_JSON,
        /** The same payload without the schema ({@code schemas.enable=false}). */
        DEBEZIUM_JSON_SCHEMALESS
    }

    public KafkaSinkConfig {
        requireNonNull(bootstrapServers, "bootstrapServers is null");
        requireNonNull(topicPrefix, "topicPrefix is null");
        requireNonNull(format, "format is null");
        properties = Map.copyOf(requireNonNull(properties, "properties is null"));
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be positive, got " + partitions);
        }
    }

    /** The sink for people, without secrets, e.g. {@code Kafka at 127.0.0.1:9092, topics shop.*}. */
    public String describe() {
        return "Kafka at " + bootstrapServers + ", topics " + topicPrefix + ".*";
    }
}
