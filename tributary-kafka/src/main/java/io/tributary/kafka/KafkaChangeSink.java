package io.tributary.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tributary.config.KafkaSinkConfig;
import io.tributary.spi.ChangeBatch;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.ChangeSink;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.RawRecord;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import io.tributary.spi.TributaryException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes change events to Kafka as Debezium's PostgreSQL connector would: one topic per table,
 * {@code <topic-prefix>.<schema>.<table>} (characters a topic name cannot hold become {@code _}),
 * the Debezium envelope as the value and the key struct as the key, both JSON with or without
 * their schemas ({@code sink.format}), and after a delete a tombstone (the key with a null value)
 * for log compaction, as Debezium's {@code tombstones.on.delete} does by default. A table's events
 * keep their order per key: a key always goes to the same partition.
 *
 * <p>Exactly once, as Kafka Connect's exactly-once source support does it (KIP-618): every batch is
 * one Kafka transaction holding its events and a record of the source position and offset on the
 * compacted topic {@code <topic-prefix>.tributary-offsets} (key: the pipeline's name); the
 * transactional id is the pipeline's, so a second process of the same pipeline fences the first
 * ({@link ErrorCode#PIPELINE_FENCED}) and a crashed one's open transaction is aborted. Consumers
 * reading with {@code isolation.level=read_committed} see each batch whole or not at all, and the
 * source is acknowledged only after the transaction committed. Not thread-safe: one capture thread.
 */
final class KafkaChangeSink implements ChangeSink {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaChangeSink.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How long the offsets topic may take to read at start before the sink counts as unreachable. */
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(60);

    private final KafkaSinkConfig config;
    private final String pipeline;
    private final String offsetsTopic;
    private final byte[] offsetsKey;
    private final Set<String> knownTopics = new HashSet<>();
    private Admin admin;
    private KafkaProducer<byte[], byte[]> producer;

    KafkaChangeSink(KafkaSinkConfig config, String pipeline) {
        this.config = config;
        this.pipeline = pipeline;
        this.offsetsTopic = offsetsTopic(config.topicPrefix());
        this.offsetsKey = pipeline.getBytes(StandardCharsets.UTF_8);
    }

    /** The topic of {@code table}'s change events: {@code <prefix>.<schema>.<table>}, sanitized as Debezium does. */
    static String topic(String prefix, TableId table) {
        return prefix + "." + sanitize(table.schema()) + "." + sanitize(table.name());
    }

    /**
     * The header each change record carries: the event's lake position ({@code SourcePosition#encoded()},
     * e.g. {@code 0000000001A2B3C4-000000000002}), so a Kafka source lands it at the same position
     * as a direct capture would.
     */
    static final String POSITION_HEADER = "tributary.position";

    /**
     * The header, value {@code key}, on a record whose before image holds only the key columns
     * (REPLICA IDENTITY DEFAULT or USING INDEX): Debezium's envelope fills the other NOT NULL columns
     * with placeholders (0, '', 1970-01-01), and a Kafka source drops them as a direct capture does.
     */
    static final String BEFORE_IMAGE_HEADER = "tributary.before-image";
    private static final byte[] BEFORE_IMAGE_KEY = "key".getBytes(StandardCharsets.US_ASCII);

    /**
     * Whether {@code event}'s before image carries nothing beyond its key: every other column null
     * (the capture nulled the placeholders). A before image whose other columns are all truly null
     * reads the same either way.
     */
    static boolean keyOnlyBefore(ChangeEvent event) {
        io.tributary.spi.Row before = event.before();
        List<String> key = event.schema().keyColumns();
        if (before == null || key.isEmpty() || key.size() == before.size()) {
            return false;
        }
        List<io.tributary.spi.Column> columns = event.schema().columns();
        for (int i = 0; i < before.size(); i++) {
            if (before.get(i) != null && !key.contains(columns.get(i).name())) {
                return false;
            }
        }
        return true;
    }

    /** The compacted topic of the source positions of every pipeline writing under {@code prefix}. */
    static String offsetsTopic(String prefix) {
        return prefix + ".tributary-offsets";
    }

    private static String sanitize(String name) {
        StringBuilder out = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            out.append(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' ? c : '_');
        }
        return out.toString();
    }

    private Map<String, Object> clientSettings() {
        Map<String, Object> settings = new HashMap<>();
        settings.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        config.properties().forEach((k, v) -> settings.put(k, v.reveal()));
        return settings;
    }

    @Override
    public Optional<Committed> open() {
        try {
            admin = Admin.create(clientSettings());
            createTopic(offsetsTopic, 1, Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
            producer = newProducer();
            // Fenced and aborted: the offsets read now are the last committed ones.
            Optional<Committed> committed = readCommitted();
            committed.ifPresentOrElse(c -> LOG.info("Resuming capture into {} from position {}", config.describe(), c.position()),
                    () -> LOG.info("Capturing into {}: no position of pipeline {} in {} yet", config.describe(), pipeline, offsetsTopic));
            return committed;
        } catch (KafkaException e) {
            throw failure("Cannot open the Kafka sink (" + config.describe() + ")", e);
        }
    }

    /**
     * A transactional producer of this pipeline; its {@code initTransactions} fences an earlier
     * producer of the pipeline and aborts its open transaction.
     */
    private KafkaProducer<byte[], byte[]> newProducer() {
        // Defaults for throughput (a batch is flushed whole at its commit), which sink.properties may change...
        Map<String, Object> settings = new HashMap<>();
        settings.put(ProducerConfig.LINGER_MS_CONFIG, 10);
        settings.put(ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024);
        settings.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        settings.put(ProducerConfig.CLIENT_ID_CONFIG, "tributary-" + pipeline);
        settings.putAll(clientSettings());
        // ...and what exactly-once needs, which they may not.
        settings.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "tributary." + pipeline + "@" + config.topicPrefix());
        settings.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        settings.put(ProducerConfig.ACKS_CONFIG, "all");
        settings.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        settings.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        KafkaProducer<byte[], byte[]> created = new KafkaProducer<>(settings);
        // Fences an earlier producer of this pipeline and aborts its open transaction.
        created.initTransactions();
        return created;
    }

    /** What the sink holds of the pipeline, read without taking it over; empty also when the offsets topic does not exist yet. */
    Optional<Committed> readOnly() {
        try {
            admin = Admin.create(clientSettings());
            if (!admin.listTopics().names().get(READ_TIMEOUT.toSeconds(), TimeUnit.SECONDS).contains(offsetsTopic)) {
                return Optional.empty();
            }
            return readCommitted();
        } catch (ExecutionException | TimeoutException | KafkaException e) {
            throw failure("Cannot read the position of pipeline " + pipeline + " from " + config.describe(), e instanceof ExecutionException ? e.getCause() : e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TributaryException(ErrorCode.SINK_FAILED, "Interrupted while reading " + offsetsTopic, e);
        }
    }

    /** The last committed offsets record of this pipeline (read committed, so an aborted batch's is not seen). */
    private Optional<Committed> readCommitted() {
        Map<String, Object> settings = clientSettings();
        settings.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        settings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        settings.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        settings.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        settings.put(ConsumerConfig.CLIENT_ID_CONFIG, "tributary-" + pipeline + "-offsets");
        TopicPartition partition = new TopicPartition(offsetsTopic, 0);
        byte[] last = null;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(settings)) {
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long end = consumer.endOffsets(List.of(partition), READ_TIMEOUT).get(partition);
            long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
            while (consumer.position(partition, READ_TIMEOUT) < end) {
                if (System.nanoTime() > deadline) {
                    throw new TributaryException(ErrorCode.SINK_FAILED, "Cannot read " + offsetsTopic + " to its end within " + READ_TIMEOUT.toSeconds() + " s");
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.key() != null && java.util.Arrays.equals(r.key(), offsetsKey)) {
                        last = r.value();
                    }
                }
            }
        }
        if (last == null) {
            return Optional.empty();
        }
        try {
            JsonNode node = JSON.readTree(last);
            Optional<Instant> at = node.hasNonNull("committed_at") ? Optional.of(Instant.parse(node.path("committed_at").asText())) : Optional.empty();
            return Optional.of(new Committed(SourcePosition.decode(node.path("position").asText()), new SourceOffset(node.path("offset").asText()), at));
        } catch (IOException | RuntimeException e) {
            throw new TributaryException(ErrorCode.SINK_FAILED, "The position of pipeline " + pipeline + " in " + offsetsTopic + " cannot be read: "
                    + e.getMessage(), e);
        }
    }

    /**
     * Writes {@code batch} in one Kafka transaction. A topic deleted while the pipeline runs fails
     * the transaction once the producer's {@code delivery.timeout.ms} (or {@code max.block.ms}) has
     * passed; the sink then creates the topic again and writes the whole batch anew, once.
     *
     * @throws TributaryException {@link ErrorCode#SINK_FAILED} when Kafka refuses the batch; the
     *         batch is then not acknowledged to the source
     */
    @Override
    public void write(ChangeBatch batch) {
        if (producer == null) {
            throw new IllegalStateException("open() first");
        }
        try {
            writeOnce(batch);
        } catch (TributaryException e) {
            if (e.errorCode() != ErrorCode.SINK_FAILED) {
                throw e;
            }
            Set<String> gone = deletedTopics(batch);
            if (gone.isEmpty()) {
                throw e;
            }
            LOG.warn("Kafka topic(s) {} no longer exist (deleted while pipeline {} wrote to them): creating them again and writing the batch through {} "
                    + "anew; what the topics held before is gone", gone, pipeline, batch.through());
            knownTopics.removeAll(gone);
            // A transaction cut short by a timeout leaves the producer waiting for a retry of its
            // commit: a new producer of the same transactional id aborts it.
            producer.close(Duration.ZERO);
            try {
                producer = newProducer();
            } catch (KafkaException k) {
                throw failure("Cannot open a new Kafka producer for pipeline " + pipeline, k);
            }
            writeOnce(batch);
        }
    }

    /** The topics of {@code batch} the sink created and that no longer exist; empty when the cluster cannot say. */
    private Set<String> deletedTopics(ChangeBatch batch) {
        Set<String> wanted = new java.util.TreeSet<>();
        batch.events().forEach(event -> wanted.add(topic(config.topicPrefix(), event.table())));
        wanted.retainAll(knownTopics);
        try {
            wanted.removeAll(admin.listTopics().names().get(READ_TIMEOUT.toSeconds(), TimeUnit.SECONDS));
            return wanted;
        } catch (ExecutionException | TimeoutException | KafkaException e) {
            return Set.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Set.of();
        }
    }

    private void writeOnce(ChangeBatch batch) {
        for (ChangeEvent event : batch.events()) {
            String topic = topic(config.topicPrefix(), event.table());
            if (!knownTopics.contains(topic)) {
                createTopic(topic, config.partitions(), Map.of());
                knownTopics.add(topic);
            }
        }
        AtomicReference<Exception> failed = new AtomicReference<>();
        org.apache.kafka.clients.producer.Callback callback = (metadata, e) -> {
            if (e != null) {
                failed.compareAndSet(null, e);
            }
        };
        boolean withSchema = config.format() == KafkaSinkConfig.Format.DEBEZIUM_JSON;
        ChangeEvent current = null;
        try {
            producer.beginTransaction();
            ByteArrayOutputStream buffer = new ByteArrayOutputStream(1024);
            for (ChangeEvent event : batch.events()) {
                current = event;
                RawRecord record = event.rawRecord();
                if (record == null) {
                    throw new TributaryException(ErrorCode.INTERNAL_ERROR, "The change event of " + event.table() + " at " + event.position()
                            + " carries no record to write to Kafka");
                }
                buffer.reset();
                if (withSchema) {
                    record.writeWithSchemaTo(buffer);
                } else {
                    record.writeTo(buffer);
                }
                byte[] key = record.key(withSchema).orElse(null);
                String topic = topic(config.topicPrefix(), event.table());
                org.apache.kafka.common.header.internals.RecordHeaders headers = new org.apache.kafka.common.header.internals.RecordHeaders();
                headers.add(POSITION_HEADER, event.position().encoded().getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                if (keyOnlyBefore(event)) {
                    headers.add(BEFORE_IMAGE_HEADER, BEFORE_IMAGE_KEY);
                }
                producer.send(new ProducerRecord<>(topic, null, key, buffer.toByteArray(), headers), callback);
                if (event.operation() == ChangeOperation.DELETE && key != null) {
                    producer.send(new ProducerRecord<>(topic, key, null), callback);
                }
            }
            current = null;
            producer.send(new ProducerRecord<>(offsetsTopic, offsetsKey, offsetsRecord(batch)), callback);
            producer.commitTransaction();
        } catch (ProducerFencedException | InvalidProducerEpochException e) {
            throw new TributaryException(ErrorCode.PIPELINE_FENCED, "Another process of pipeline " + pipeline + " took over its Kafka transactions ("
                    + e.getMessage() + "); this one stops", e);
        } catch (KafkaException e) {
            abort();
            throw failure("Cannot write " + batch.events().size() + " change event(s) through " + batch.through() + " to " + config.describe()
                    + (current == null ? "" : " (at " + current.table() + " position " + current.position() + ")"), failed.get() != null ? failed.get() : e);
        } catch (IOException e) {
            abort();
            throw new UncheckedIOException(e);
        }
        if (failed.get() != null) {
            // commitTransaction throws when a send failed; this only guards against a client that does not.
            throw failure("Kafka refused a record of the batch through " + batch.through(), failed.get());
        }
    }

    private byte[] offsetsRecord(ChangeBatch batch) {
        ObjectNode node = JSON.createObjectNode();
        node.put("pipeline", pipeline);
        node.put("position", batch.through().encoded());
        node.put("consistent", batch.consistent().encoded());
        node.put("offset", batch.offset().token());
        node.put("committed_at", Instant.now().toString());
        try {
            return JSON.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Aborts the open transaction. After a commit that timed out Kafka's producer refuses to abort
     * (IllegalStateException: the commit must be retried); the transaction then stays open until a
     * new producer of the transactional id aborts it, as the next start or {@link #write}'s retry does.
     */
    private void abort() {
        try {
            producer.abortTransaction();
        } catch (KafkaException | IllegalStateException e) {
            LOG.warn("Cannot abort the Kafka transaction of pipeline {}: {}", pipeline, e.getMessage());
        }
    }

    /** Creates {@code topic} unless it exists. */
    private void createTopic(String topic, int partitions, Map<String, String> topicConfig) {
        Optional<Short> replication = config.replicationFactor() < 1 ? Optional.empty() : Optional.of(config.replicationFactor());
        try {
            admin.createTopics(List.of(new NewTopic(topic, Optional.of(partitions), replication).configs(topicConfig)))
                    .all().get(READ_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            LOG.info("Created Kafka topic {} ({} partition(s))", topic, partitions);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw failure("Cannot create Kafka topic " + topic, e.getCause());
            }
        } catch (TimeoutException e) {
            throw failure("Cannot create Kafka topic " + topic + " within " + READ_TIMEOUT.toSeconds() + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TributaryException(ErrorCode.SINK_FAILED, "Interrupted while creating Kafka topic " + topic, e);
        }
    }

    private TributaryException failure(String what, Throwable cause) {
        String reason = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        if (cause instanceof AuthenticationException || cause instanceof AuthorizationException) {
            return new TributaryException(ErrorCode.SINK_FAILED, what + ": Kafka refused access (" + reason + "); check sink.properties "
                    + "(security.protocol, sasl.*) and the principal's ACLs", cause);
        }
        return new TributaryException(ErrorCode.SINK_FAILED, what + ": " + reason, cause);
    }

    @Override
    public void close() {
        if (producer != null) {
            try {
                producer.close(Duration.ofSeconds(10));
            } catch (KafkaException e) {
                LOG.warn("Cannot close the Kafka producer of pipeline {}: {}", pipeline, e.getMessage());
            }
        }
        if (admin != null) {
            admin.close(Duration.ofSeconds(10));
        }
    }
}
