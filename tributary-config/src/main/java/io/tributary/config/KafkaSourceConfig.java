package io.tributary.config;

import static java.util.Objects.requireNonNull;

import io.tributary.spi.TableId;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code source} section of a pipeline that lands Apache Kafka topics in the lake: topics
 * holding Debezium change events (Tributary's own capture to Kafka, or Debezium's PostgreSQL
 * connector on Kafka Connect), one topic per table, read with Kafka's consumer in
 * {@code read_committed} isolation. The lake names a table by the envelope's {@code source.schema}
 * and {@code source.table}, as for a direct source.
 *
 * @param bootstrapServers {@code host:port[,host:port…]} ({@code bootstrap.servers})
 * @param topics           the topics to read; empty when {@code topicPattern} is given
 * @param topicPattern     a Java regular expression over topic names (Kafka's pattern
 *                         subscription: topics created later that match are read too), or empty
 * @param format           how records are written (only {@code debezium-json}: the types of the
 *                         columns come from the embedded Connect schema)
 * @param groupId          the consumer group ({@code group.id}); the lake's committed offsets are
 *                         the ones a restart resumes from, the group's are written after each lake
 *                         commit for monitoring tools
 * @param properties       further Kafka client settings (security, SASL, TLS), passed through to
 *                         the consumer; values may be {@code ${env:…}}/{@code ${file:…}} references
 *                         and are masked when printed
 * @param heartbeatInterval the longest a quiet topic set goes without the lake recording its position
 * @param reconnect        how long to keep retrying while the brokers cannot be reached
 * @param workers          {@code source.workers}: whether one pipeline reads every topic, or several
 *                         lake workers share the topics through the consumer group {@code groupId}
 */
public record KafkaSourceConfig(String bootstrapServers, List<String> topics, Optional<String> topicPattern, KafkaSinkConfig.Format format,
                                String groupId, Map<String, Secret> properties, Duration heartbeatInterval, ReconnectConfig reconnect,
                                Workers workers)
        implements SourceConfig {
    /** {@code source.type} of this source. */
    public static final String TYPE = "kafka";

    /**
     * @throws IllegalArgumentException when neither or both of {@code topics} and
     *         {@code topicPattern} are given
     */
    public KafkaSourceConfig {
        requireNonNull(bootstrapServers, "bootstrapServers is null");
        topics = List.copyOf(requireNonNull(topics, "topics is null"));
        requireNonNull(topicPattern, "topicPattern is null");
        requireNonNull(format, "format is null");
        requireNonNull(groupId, "groupId is null");
        properties = Map.copyOf(requireNonNull(properties, "properties is null"));
        requireNonNull(heartbeatInterval, "heartbeatInterval is null");
        requireNonNull(reconnect, "reconnect is null");
        requireNonNull(workers, "workers is null");
        if (topics.isEmpty() == topicPattern.isEmpty()) {
            throw new IllegalArgumentException("Give either topics or a topic pattern, got " + (topics.isEmpty() ? "neither" : "both"));
        }
    }

    /** A source read by one pipeline ({@link Workers#SINGLE}). */
    public KafkaSourceConfig(String bootstrapServers, List<String> topics, Optional<String> topicPattern, KafkaSinkConfig.Format format,
                             String groupId, Map<String, Secret> properties, Duration heartbeatInterval, ReconnectConfig reconnect) {
        this(bootstrapServers, topics, topicPattern, format, groupId, properties, heartbeatInterval, reconnect, Workers.SINGLE);
    }

    /** {@code source.workers}: who reads the topics. */
    public enum Workers {
        /** One pipeline reads every partition; the lake's lease keeps a second one out. */
        SINGLE,
        /**
         * Every pipeline started with this configuration joins the consumer group {@code group-id};
         * Kafka gives each the partitions of some topics (all partitions of a topic to one worker,
         * so each lake table has one committer), and hands a dead worker's topics to the others.
         */
        GROUP
    }

    @Override
    public boolean sharedByWorkers() {
        return workers == Workers.GROUP;
    }

    @Override
    public String type() {
        return TYPE;
    }

    /** Every table the topics carry. */
    @Override
    public List<TableId> tables() {
        return List.of();
    }

    @Override
    public String describe() {
        return "Kafka at " + bootstrapServers + ", " + (topics.isEmpty() ? "topics matching " + topicPattern.get() : "topics " + String.join(", ", topics));
    }

    /** None: secrets among {@code properties} are masked where they are printed. */
    @Override
    public Optional<Secret> secret() {
        return Optional.empty();
    }
}
