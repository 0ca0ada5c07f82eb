package io.tributary.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.config.LakeCommitsConfig;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.LakeCommit;
import io.tributary.spi.LakeCommitFeed;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows {@code <prefix>.lake-commits} (or the topics of the layers asked for, with
 * {@code per-layer}) from their end at opening: a consumer without a group that reads every
 * partition, parses each record written by {@link KafkaLakeCommitPublisher} and keeps the ones of
 * its pipeline and layers. A topic that does not exist yet is read from its beginning once it
 * appears (looked for at every poll, at most every 5 s); a record that is not an announcement is skipped with a WARN, as
 * it names no commit.
 */
final class KafkaLakeCommitFeed implements LakeCommitFeed {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaLakeCommitFeed.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration TOPIC_REFRESH = Duration.ofSeconds(5);

    private final LakeCommitsConfig config;
    private final String pipeline;
    private final Set<String> layers;
    private final Set<String> topics = new TreeSet<>();
    private final KafkaConsumer<byte[], byte[]> consumer;
    private long lastRefresh;
    private boolean opened;

    KafkaLakeCommitFeed(LakeCommitsConfig config, String pipeline, Set<String> layers) {
        this.config = config;
        this.pipeline = pipeline;
        this.layers = Set.copyOf(layers);
        layers.forEach(layer -> topics.add(config.topic(layer)));
        Map<String, Object> settings = KafkaLakeCommitPublisher.clientSettings(config);
        settings.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "tributary-" + pipeline + "-lake-commits-feed");
        settings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        settings.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        settings.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        try {
            consumer = new KafkaConsumer<>(settings);
            refresh();
            opened = true;
        } catch (KafkaException e) {
            throw failure(e);
        }
    }

    /** Assigns the partitions of the topics that exist now; a partition new to the feed is read from its end. */
    private void refresh() {
        lastRefresh = System.nanoTime();
        Map<String, List<PartitionInfo>> all = consumer.listTopics(METADATA_TIMEOUT);
        Set<TopicPartition> wanted = new HashSet<>();
        for (String topic : topics) {
            all.getOrDefault(topic, List.of()).forEach(p -> wanted.add(new TopicPartition(topic, p.partition())));
        }
        Set<TopicPartition> added = new HashSet<>(wanted);
        added.removeAll(consumer.assignment());
        if (added.isEmpty()) {
            return;
        }
        consumer.assign(wanted);
        if (opened) {
            // A topic created since the feed opened holds only announcements made after that.
            consumer.seekToBeginning(added);
        } else {
            consumer.seekToEnd(added);
        }
        // Fix the positions now: a seek is lazy, and announcements made before the next poll would
        // otherwise be skipped.
        added.forEach(tp -> consumer.position(tp, METADATA_TIMEOUT));
        LOG.info("Following lake commits of pipeline {} on {}", pipeline, String.join(", ", topics));
    }

    @Override
    public List<LakeCommit> poll(Duration timeout) {
        try {
            if (consumer.assignment().size() < topics.size() && System.nanoTime() - lastRefresh > TOPIC_REFRESH.toNanos()) {
                refresh();
            }
            if (consumer.assignment().isEmpty()) {
                java.util.concurrent.locks.LockSupport.parkNanos(timeout.toNanos());
                return List.of();
            }
            List<LakeCommit> out = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> record : consumer.poll(timeout)) {
                Optional<LakeCommit> commit = parse(record);
                commit.filter(c -> c.pipeline().equals(pipeline) && layers.contains(c.layer())).ifPresent(out::add);
            }
            return out;
        } catch (KafkaException e) {
            throw failure(e);
        }
    }

    private Optional<LakeCommit> parse(ConsumerRecord<byte[], byte[]> record) {
        try {
            return Optional.of(parse(record.value()));
        } catch (IOException | RuntimeException e) {
            LOG.warn("Record {}-{} at offset {} is not a lake commit announcement ({}): skipped", record.topic(), record.partition(), record.offset(),
                    e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * The announcement {@link KafkaLakeCommitPublisher#json} wrote.
     *
     * @throws IOException when {@code value} is not JSON
     * @throws IllegalArgumentException when a field is missing
     */
    static LakeCommit parse(byte[] value) throws IOException {
        if (value == null) {
            throw new IllegalArgumentException("no value");
        }
        JsonNode node = JSON.readTree(value);
        return new LakeCommit(text(node, "pipeline"), text(node, "layer"), text(node, "table"), number(node, "snapshot_id"),
                node.hasNonNull("position") ? Optional.of(node.get("position").asText()) : Optional.empty(), number(node, "added_records"),
                number(node, "deleted_records"), Instant.parse(text(node, "committed_at")));
    }

    private static String text(JsonNode node, String field) {
        if (node == null || !node.hasNonNull(field)) {
            throw new IllegalArgumentException("no field " + field);
        }
        return node.get(field).asText();
    }

    private static long number(JsonNode node, String field) {
        if (node == null || !node.hasNonNull(field) || !node.get(field).canConvertToLong()) {
            throw new IllegalArgumentException("no whole number " + field);
        }
        return node.get(field).asLong();
    }

    private TributaryException failure(KafkaException e) {
        return new TributaryException(ErrorCode.SOURCE_FAILED, "Cannot follow lake commits on " + String.join(", ", topics) + " at "
                + config.bootstrapServers() + ": " + e.getMessage(), e);
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(5));
    }
}
