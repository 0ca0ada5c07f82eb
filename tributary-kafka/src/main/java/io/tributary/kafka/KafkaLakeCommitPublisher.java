package io.tributary.kafka;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tributary.config.LakeCommitsConfig;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.LakeCommit;
import io.tributary.spi.LakeCommitPublisher;
import io.tributary.spi.TributaryException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Announces lake commits on {@code <prefix>.lake-commits} (or one topic per layer): one JSON record
 * per table and layer committed, keyed by {@code <layer>.<table>} so a table's announcements keep
 * their order, written by an idempotent producer ({@code acks=all}) and awaited before the pipeline
 * goes on. The record:
 * <pre>{"pipeline": "shop", "layer": "silver", "table": "orders", "snapshot_id": 8123…,
 *  "position": "0000000001A2B3C4-000000000002", "added_records": 120, "deleted_records": 3,
 *  "committed_at": "2026-12-07T10:01:02.345Z"}</pre>
 * {@code position} is absent for gold tables. Topics are created (one partition, the broker's
 * replication factor) when missing.
 */
final class KafkaLakeCommitPublisher implements LakeCommitPublisher {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaLakeCommitPublisher.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final LakeCommitsConfig config;
    private final String pipeline;
    private final Set<String> knownTopics = new HashSet<>();
    private Admin admin;
    private KafkaProducer<byte[], byte[]> producer;

    KafkaLakeCommitPublisher(LakeCommitsConfig config, String pipeline) {
        this.config = config;
        this.pipeline = pipeline;
    }

    /** The configured client settings ({@code properties}) with the bootstrap servers: the publisher's and the feed's. */
    static Map<String, Object> clientSettings(LakeCommitsConfig config) {
        Map<String, Object> settings = new HashMap<>();
        config.properties().forEach((k, v) -> settings.put(k, v.reveal()));
        settings.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        return settings;
    }

    @Override
    public void publish(List<LakeCommit> commits) {
        try {
            if (producer == null) {
                admin = Admin.create(clientSettings(config));
                Map<String, Object> settings = clientSettings(config);
                settings.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "tributary-" + pipeline + "-lake-commits");
                settings.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
                settings.put(ProducerConfig.ACKS_CONFIG, "all");
                settings.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
                settings.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
                producer = new KafkaProducer<>(settings);
            }
            List<Future<RecordMetadata>> sent = new ArrayList<>(commits.size());
            for (LakeCommit commit : commits) {
                String topic = config.topic(commit.layer());
                if (knownTopics.add(topic)) {
                    createTopic(topic);
                }
                byte[] key = (commit.layer() + "." + commit.table()).getBytes(StandardCharsets.UTF_8);
                sent.add(producer.send(new ProducerRecord<>(topic, key, json(commit))));
            }
            for (Future<RecordMetadata> f : sent) {
                f.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            }
        } catch (ExecutionException e) {
            throw new TributaryException(ErrorCode.SINK_FAILED, "Cannot announce lake commits on " + config.topic("<layer>") + " at "
                    + config.bootstrapServers() + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException | org.apache.kafka.common.KafkaException e) {
            throw new TributaryException(ErrorCode.SINK_FAILED, "Cannot announce lake commits on " + config.topic("<layer>") + " at "
                    + config.bootstrapServers() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TributaryException(ErrorCode.SINK_FAILED, "Interrupted while announcing lake commits", e);
        }
    }

    /** The announcement of {@code commit} as JSON. */
    static byte[] json(LakeCommit commit) {
        ObjectNode node = JSON.createObjectNode();
        node.put("pipeline", commit.pipeline());
        node.put("layer", commit.layer());
        node.put("table", commit.table());
        node.put("snapshot_id", commit.snapshotId());
        commit.position().ifPresent(p -> node.put("position", p));
        node.put("added_records", commit.addedRecords());
        node.put("deleted_records", commit.deletedRecords());
        node.put("committed_at", commit.committedAt().toString());
        return node.toString().getBytes(StandardCharsets.UTF_8);
    }

    private void createTopic(String topic) throws InterruptedException, TimeoutException {
        try {
            admin.createTopics(List.of(new NewTopic(topic, Optional.of(1), Optional.empty()))).all().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            LOG.info("Created Kafka topic {} for lake commit announcements", topic);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                knownTopics.remove(topic);
                throw new TributaryException(ErrorCode.SINK_FAILED, "Cannot create Kafka topic " + topic + ": " + e.getCause().getMessage(), e.getCause());
            }
        }
    }

    @Override
    public void close() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
        }
    }

    /** {@code lake-commits.type: kafka}. */
    public static final class Factory implements LakeCommitPublisher.Factory<LakeCommitsConfig> {
        @Override
        public String type() {
            return LakeCommitsConfig.TYPE;
        }

        @Override
        public Class<LakeCommitsConfig> settingsType() {
            return LakeCommitsConfig.class;
        }

        @Override
        public LakeCommitPublisher open(LakeCommitsConfig settings, String pipelineName) {
            return new KafkaLakeCommitPublisher(settings, pipelineName);
        }

        @Override
        public io.tributary.spi.LakeCommitFeed follow(LakeCommitsConfig settings, String pipelineName, Set<String> layers) {
            return new KafkaLakeCommitFeed(settings, pipelineName, layers);
        }
    }
}
