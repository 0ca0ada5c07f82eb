package io.tributary.source.kafka;

import io.tributary.config.KafkaSourceConfig;
import io.tributary.spi.ChangeSource;
import io.tributary.spi.ChangeSourceFactory;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourceLag;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.SourceSession;
import io.tributary.spi.TableId;
import io.tributary.spi.TributaryException;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/** {@code source.type: kafka}: Debezium change events from Kafka topics (see {@link KafkaChangeSource}). */
public final class KafkaChangeSourceFactory implements ChangeSourceFactory<KafkaSourceConfig> {
    private static final Duration TIMEOUT = Duration.ofSeconds(15);

    @Override
    public String type() {
        return KafkaSourceConfig.TYPE;
    }

    @Override
    public Class<KafkaSourceConfig> settingsType() {
        return KafkaSourceConfig.class;
    }

    @Override
    public ChangeSource open(KafkaSourceConfig settings, SourceSession session) {
        return new KafkaChangeSource(settings, session, Clock.systemUTC());
    }

    @Override
    public SourceLag lag(KafkaSourceConfig settings, Optional<SourcePosition> watermark) {
        return lag(settings, watermark, Optional.empty());
    }

    /**
     * The records of the topics' partitions beyond the lake's offsets: end offset (the last stable
     * offset, as a {@code read_committed} consumer sees it) minus the lake's next offset, summed
     * (the beginning offset for a partition the lake has not read).
     */
    @Override
    public SourceLag lag(KafkaSourceConfig settings, Optional<SourcePosition> watermark, Optional<SourceOffset> offset) {
        Map<TopicPartition, Long> lake = offset.filter(o -> !o.requestsInitialSnapshot()).map(OffsetToken::decode).orElse(Map.of());
        java.util.Properties props = KafkaChangeSource.consumerProperties(settings);
        props.put(org.apache.kafka.clients.consumer.ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Long.toString(TIMEOUT.toMillis()));
        props.put(org.apache.kafka.clients.consumer.ConsumerConfig.CLIENT_ID_CONFIG, settings.groupId() + "-status");
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
            Set<TopicPartition> partitions = partitions(settings, consumer.listTopics(TIMEOUT));
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, TIMEOUT);
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions, TIMEOUT);
            long total = 0;
            long behind = 0;
            for (TopicPartition tp : partitions) {
                long e = end.getOrDefault(tp, 0L);
                total += e;
                behind += Math.max(0, e - lake.getOrDefault(tp, begin.getOrDefault(tp, 0L)));
            }
            return new SourceLag("end offsets " + total + " over " + partitions.size() + " partition(s)", behind, SourceLag.Unit.RECORDS);
        } catch (org.apache.kafka.common.KafkaException e) {
            throw new TributaryException(ErrorCode.SOURCE_UNREACHABLE, "Cannot read the end offsets of " + settings.describe() + ": " + e.getMessage(), e);
        }
    }

    static Set<TopicPartition> partitions(KafkaSourceConfig settings, Map<String, List<PartitionInfo>> topics) {
        Pattern pattern = settings.topicPattern().map(Pattern::compile).orElse(null);
        Set<TopicPartition> out = new HashSet<>();
        topics.forEach((topic, infos) -> {
            if (pattern == null ? settings.topics().contains(topic) : KafkaChangeSource.patternMatches(pattern, topic)) {
                infos.forEach(p -> out.add(new TopicPartition(p.topic(), p.partition())));
            }
        });
        return out;
    }

    /** Nothing to refuse: the lake's lease keeps a second pipeline of the same lake out. */
    @Override
    public void requireNotCapturing(KafkaSourceConfig settings, String pipelineName) {
    }

    /** None: a Kafka source takes no initial snapshot of its own (Debezium's snapshot reads arrive as records). */
    @Override
    public List<TableId> snapshotting(KafkaSourceConfig settings, SourceOffset offset) {
        return List.of();
    }
}
