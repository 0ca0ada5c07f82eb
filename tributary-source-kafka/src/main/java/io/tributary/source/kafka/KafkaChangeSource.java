package io.tributary.source.kafka;

import io.tributary.config.KafkaSourceConfig;
import io.tributary.config.Secret;
import io.tributary.source.postgres.convert.ChangeEventConverter;
import io.tributary.spi.ChangeBatch;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeHandler;
import io.tributary.spi.ChangeSource;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.SourceSession;
import io.tributary.spi.TributaryException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.connect.data.Struct;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lands Debezium change events from Kafka topics: reads every partition of the configured topics
 * (Kafka's {@code read_committed} isolation, so aborted transactions of a transactional producer
 * never arrive), converts each record as a direct PostgreSQL source converts Debezium's records,
 * and hands batches to the pipeline in the source's order.
 *
 * <p><b>Order and positions.</b> Kafka orders records only within a partition, and a table's
 * records of one key always share a partition. The records a poll returns are merged across
 * partitions by the position each carries (Tributary's sink writes the lake position of the event
 * in a {@code tributary.position} header; for Debezium's own records it is taken from the
 * envelope, see {@link EnvelopeDecoder}), never reordering a partition. An event's lake position is
 * that position, or the next one after the last event delivered when the record arrived later than
 * events already delivered (a partition lagging behind another, a snapshot's reads, which all share
 * one LSN): positions only grow, so the lake's commit protocol applies unchanged.
 *
 * <p><b>Offsets.</b> The offset of the next record of every partition is the batch's source
 * offset ({@link OffsetToken}), recorded in the lake with the commit; a restart seeks every
 * partition there, so a replay after a crash re-reads exactly what the lake does not hold. After
 * each lake commit the same offsets are committed to the consumer group ({@code group-id}) for
 * monitoring tools; the group's offsets are never read back. Partitions the lake has no offset
 * for are read from their beginning.
 *
 * <p>With {@code source.workers: single} partitions are assigned by this source (Kafka's
 * {@code assign}), not by group membership: one pipeline reads all of them, and the lake's lease
 * keeps a second pipeline out. With {@code source.workers: group} every pipeline of the
 * configuration joins the consumer group, Kafka gives each whole topics ({@link TopicAffineAssignor}),
 * and each topic is a shard of the lake ({@link ChangeHandler#claim}): on assignment the pipeline
 * claims the topics and reads each from the offsets the lake recorded for it; on revocation it
 * commits what it delivered and releases them, before another worker reads them. Topics created
 * later that match are picked up within {@link #TOPIC_REFRESH}.
 */
final class KafkaChangeSource implements ChangeSource {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaChangeSource.class);
    /** How often the topic list is read again for topics that appeared. */
    static final Duration TOPIC_REFRESH = Duration.ofSeconds(30);
    private static final Duration POLL = Duration.ofMillis(200);
    /** How often the topic list is read while no topic matches yet. */
    private static final Duration EMPTY_REFRESH = Duration.ofSeconds(2);
    private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(30);
    /** Topics a pattern never matches: Tributary's and Debezium's own bookkeeping, Kafka's internal ones. */
    private static final Pattern OWN_TOPICS = Pattern.compile("(__.*|.*\\.tributary-offsets|.*\\.lake-commits(\\..*)?|.*\\.transaction)");

    private final KafkaSourceConfig config;
    private final SourceSession session;
    private final Clock clock;
    private final EnvelopeDecoder decoder = new EnvelopeDecoder();
    private final ChangeEventConverter converter;
    private volatile boolean closed;
    /** Released by {@link #close()}: waits between topic look-ups end at once. */
    private final java.util.concurrent.CountDownLatch idle = new java.util.concurrent.CountDownLatch(1);
    private volatile Consumer<byte[], byte[]> consumer;

    /** The next offset of every partition read, through the last record handed over. */
    private final Map<TopicPartition, Long> next = new HashMap<>();
    /** Offsets handed over and not yet committed to the group: the batch position and its offsets. */
    private final Deque<Map.Entry<SourcePosition, Map<TopicPartition, Long>>> unacknowledged = new ArrayDeque<>();
    private SourcePosition lastDelivered;
    /** The offsets last committed to the consumer group. */
    private Map<TopicPartition, Long> groupCommitted = Map.of();
    private Instant lastRefresh = Instant.EPOCH;
    private final Set<String> missingTopicsWarned = new TreeSet<>();
    private long deadLetters;
    /** Lake workers: the partitions come from group membership, each topic a shard of the lake. */
    private final boolean group;
    /** Lake workers: the group membership, once the consumer exists. */
    private WorkerGroup workers;
    /** {@code CATCH_UP}: the end offsets to read to, of the partitions this pipeline reads. */
    private final Map<TopicPartition, Long> endAtStart = new HashMap<>();
    private RunMode mode = RunMode.CONTINUOUS;

    KafkaChangeSource(KafkaSourceConfig config, SourceSession session, Clock clock) {
        this.config = config;
        this.session = session;
        this.clock = clock;
        this.converter = new ChangeEventConverter(session.keepRawEvents());
        this.lastDelivered = session.committed();
        this.group = config.workers() == KafkaSourceConfig.Workers.GROUP;
    }

    /** The consumer's settings: the configured properties, then the ones this source relies on. */
    static Properties consumerProperties(KafkaSourceConfig config) {
        Properties props = new Properties();
        for (Map.Entry<String, Secret> e : config.properties().entrySet()) {
            props.put(e.getKey(), e.getValue().reveal());
        }
        props.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        props.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, config.groupId());
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        if (config.workers() == KafkaSourceConfig.Workers.GROUP) {
            props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
            props.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, TopicAffineAssignor.class.getName());
        }
        return props;
    }

    @Override
    public void run(ChangeHandler handler, RunMode mode) {
        this.mode = mode;
        if (!group) {
            session.resumeOffset().filter(o -> !o.requestsInitialSnapshot()).ifPresent(o -> next.putAll(OffsetToken.decode(o)));
        }
        try (KafkaConsumer<byte[], byte[]> kafka = new KafkaConsumer<>(consumerProperties(config))) {
            consumer = kafka;
            if (closed) {
                return;
            }
            if (group) {
                workers = new WorkerGroup(kafka, handler, new GroupReader(kafka));
            }
            refreshAssignment(kafka);
            if (mode == RunMode.CATCH_UP && !group) {
                endAtStart.putAll(kafka.endOffsets(kafka.assignment(), METADATA_TIMEOUT));
                LOG.info("Reading {} up to the end offsets of {} partition(s) seen at start", config.describe(), endAtStart.size());
            }
            while (!closed) {
                if (mode == RunMode.CATCH_UP && (!group || workers.settled()) && reached(kafka, endAtStart)) {
                    handOver(handler, List.of(), kafka, true);
                    acknowledge(kafka, handler.drain());
                    return;
                }
                if (mode == RunMode.CONTINUOUS && Duration.between(lastRefresh, clock.instant())
                        .compareTo(kafka.assignment().isEmpty() ? EMPTY_REFRESH : TOPIC_REFRESH) >= 0) {
                    refreshAssignment(kafka);
                }
                if (group ? workers.idle() : kafka.assignment().isEmpty()) {
                    // No topic to read yet (Debezium creates a table's topic with its first event).
                    awaitIdle(POLL);
                    continue;
                }
                ConsumerRecords<byte[], byte[]> records = kafka.poll(POLL);
                if (group) {
                    // Records of topics this pipeline could not claim must not be delivered.
                    workers.throwIfFailed();
                }
                deliver(handler, kafka, records);
            }
        } catch (WakeupException e) {
            if (!closed) {
                throw e;
            }
        } catch (AuthenticationException e) {
            throw new TributaryException(ErrorCode.SOURCE_AUTHENTICATION_FAILED, "Cannot authenticate to " + config.describe() + ": " + e.getMessage(), e);
        } catch (AuthorizationException e) {
            throw new TributaryException(ErrorCode.SOURCE_MISCONFIGURED, "Not authorized to read " + config.describe() + " as consumer group "
                    + config.groupId() + ": " + e.getMessage() + " (grant the principal READ and DESCRIBE on the topics, READ on the group)", e);
        } catch (org.apache.kafka.common.KafkaException e) {
            throw new TributaryException(ErrorCode.SOURCE_FAILED, "Cannot read " + config.describe() + ": " + e.getMessage(), e);
        } finally {
            consumer = null;
            if (workers != null) {
                // The consumer's close ran the listener for the topics still held (leaving the group).
                workers.clearFailure();
            }
        }
    }

    /** A lake worker's reading state, as its group membership changes it. */
    private final class GroupReader implements WorkerGroup.Reader {
        private final Consumer<byte[], byte[]> kafka;

        GroupReader(Consumer<byte[], byte[]> kafka) {
            this.kafka = kafka;
        }

        @Override
        public void resume(String topic, io.tributary.spi.ShardResume at) {
            if (at.position().isAfter(lastDelivered)) {
                // The topic's tables are committed through there: its events come after.
                lastDelivered = at.position();
            }
            at.offset().filter(o -> !o.requestsInitialSnapshot()).ifPresent(o -> OffsetToken.decode(o).forEach((tp, offset) -> {
                if (tp.topic().equals(topic)) {
                    next.put(tp, offset);
                }
            }));
        }

        @Override
        public void start(Set<TopicPartition> partitions) {
            seekAdded(kafka, partitions);
            if (mode == RunMode.CATCH_UP) {
                endAtStart.putAll(kafka.endOffsets(partitions, METADATA_TIMEOUT));
            }
            LOG.info("Lake worker reads {} partition(s) of {}: {}", partitions.size(), config.describe(), describe(partitions));
        }

        @Override
        public void forget(Set<String> topics) {
            next.keySet().removeIf(tp -> topics.contains(tp.topic()));
            endAtStart.keySet().removeIf(tp -> topics.contains(tp.topic()));
        }
    }

    private void awaitIdle(Duration wait) {
        try {
            idle.await(wait.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closed = true;
        }
    }

    private boolean reached(Consumer<byte[], byte[]> kafka, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (kafka.position(e.getKey(), METADATA_TIMEOUT) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    /**
     * Assigns every partition of the configured topics, each at the lake's offset or its beginning.
     *
     * @throws TributaryException {@link ErrorCode#SOURCE_FAILED} (retried within
     *         {@code source.reconnect.max-elapsed}) when a topic of {@code source.topics} the lake
     *         has read no longer exists; {@link ErrorCode#SOURCE_GAP} when Kafka no longer holds
     *         records after the lake's offset (retention removed them unread)
     * @throws org.apache.kafka.common.errors.TopicAuthorizationException when a topic of
     *         {@code source.topics} is hidden from this principal
     */
    private void refreshAssignment(Consumer<byte[], byte[]> kafka) {
        lastRefresh = clock.instant();
        Map<String, List<PartitionInfo>> all = kafka.listTopics(METADATA_TIMEOUT);
        Set<TopicPartition> wanted = KafkaChangeSourceFactory.partitions(config, all);
        Map<String, Map<Integer, Long>> read = new java.util.TreeMap<>();
        next.forEach((tp, offset) -> read.computeIfAbsent(tp.topic(), t -> new java.util.TreeMap<>()).put(tp.partition(), offset));
        for (String topic : config.topics()) {
            if (all.containsKey(topic)) {
                missingTopicsWarned.remove(topic);
            } else if (read.containsKey(topic)) {
                throw new TributaryException(ErrorCode.SOURCE_FAILED, "Topic " + topic + " of source.topics no longer exists on "
                        + config.bootstrapServers() + " (deleted?); the lake read it through offsets " + read.get(topic)
                        + " (partition: next offset). Create it again (it is then read from its beginning) or take it out of source.topics");
            } else if (missingTopicsWarned.add(topic)) {
                // Kafka leaves a topic the principal may not DESCRIBE out of the list; asking for it names the refusal.
                kafka.partitionsFor(topic, METADATA_TIMEOUT);
                LOG.warn("Topic {} does not exist yet on {}: it is read once it appears (Debezium creates a table's topic with its first event)",
                        topic, config.bootstrapServers());
            }
        }
        if (config.topicPattern().isPresent()) {
            Pattern pattern = Pattern.compile(config.topicPattern().get());
            for (Map.Entry<String, Map<Integer, Long>> e : read.entrySet()) {
                if (!all.containsKey(e.getKey()) && patternMatches(pattern, e.getKey())
                        && missingTopicsWarned.add(e.getKey())) {
                    LOG.warn("Topic {} matched by the topic pattern no longer exists on {}; the lake read it through offsets {} (partition: next "
                            + "offset) and keeps its tables", e.getKey(), config.bootstrapServers(), e.getValue());
                }
            }
        }
        if (group) {
            Set<String> topics = new TreeSet<>();
            wanted.forEach(tp -> topics.add(tp.topic()));
            workers.subscribe(topics);
            return;
        }
        Set<TopicPartition> current = kafka.assignment();
        if (wanted.equals(current)) {
            return;
        }
        Set<TopicPartition> added = new TreeSet<>(OffsetToken.ORDER);
        added.addAll(wanted);
        added.removeAll(current);
        kafka.assign(wanted);
        seekAdded(kafka, added);
        if (!added.isEmpty()) {
            LOG.info("Reading {} partition(s) of {}: {}", added.size(), config.describe(), describe(added));
        }
    }

    /**
     * Positions newly read partitions at the lake's offset, or at their beginning when the lake has
     * none or the topic was created again.
     *
     * @throws TributaryException {@link ErrorCode#SOURCE_GAP} when Kafka no longer holds records after the lake's offset
     */
    private void seekAdded(Consumer<byte[], byte[]> kafka, Set<TopicPartition> added) {
        List<TopicPartition> resumed = added.stream().filter(next::containsKey).toList();
        Map<TopicPartition, Long> beginning = resumed.isEmpty() ? Map.of() : kafka.beginningOffsets(resumed, METADATA_TIMEOUT);
        Map<TopicPartition, Long> end = resumed.isEmpty() ? Map.of() : kafka.endOffsets(resumed, METADATA_TIMEOUT);
        List<TopicPartition> fromStart = new ArrayList<>();
        for (TopicPartition tp : added) {
            Long offset = next.get(tp);
            if (offset == null) {
                fromStart.add(tp);
            } else if (offset > end.get(tp)) {
                // Offsets only grow: a log that ends before the lake's offset is a new topic of the same name.
                LOG.warn("Topic {} partition {} ends at offset {}, before the lake's next offset {}: the topic was deleted and created again; "
                        + "reading it from its beginning", tp.topic(), tp.partition(), end.get(tp), offset);
                fromStart.add(tp);
            } else if (offset < beginning.get(tp)) {
                throw new TributaryException(ErrorCode.SOURCE_GAP, "Kafka no longer holds topic " + tp.topic() + " partition " + tp.partition()
                        + " from the lake's next offset " + offset + ": its log begins at offset " + beginning.get(tp) + ", so offsets " + offset
                        + " to " + (beginning.get(tp) - 1) + ", which the lake has not read, were removed (retention.ms / retention.bytes of the "
                        + "topic). Nothing was landed past the gap. Lengthen the topic's retention so that the lake keeps up; to go on, land the "
                        + "topics into a new lake");
            } else {
                kafka.seek(tp, offset);
            }
        }
        if (!fromStart.isEmpty()) {
            // An empty collection would mean every assigned partition.
            kafka.seekToBeginning(fromStart);
        }
    }

    /** Whether a topic pattern takes {@code topic}: never Tributary's, Debezium's or Kafka's own bookkeeping topics. */
    static boolean patternMatches(Pattern pattern, String topic) {
        return pattern.matcher(topic).matches() && !OWN_TOPICS.matcher(topic).matches();
    }

    private static String describe(Set<TopicPartition> partitions) {
        Map<String, Integer> counts = new java.util.TreeMap<>();
        partitions.forEach(tp -> counts.merge(tp.topic(), 1, Integer::sum));
        List<String> out = new ArrayList<>();
        counts.forEach((topic, n) -> out.add(topic + " (" + n + ")"));
        return String.join(", ", out);
    }

    /** A partition's records of one poll, decoded, with a cursor. */
    private static final class Lane {
        final TopicPartition partition;
        final List<ConsumerRecord<byte[], byte[]>> records;
        final List<EnvelopeDecoder.Decoded> decoded;
        int at;

        Lane(TopicPartition partition, List<ConsumerRecord<byte[], byte[]>> records, List<EnvelopeDecoder.Decoded> decoded) {
            this.partition = partition;
            this.records = records;
            this.decoded = decoded;
        }

        SourcePosition headHint() {
            return decoded.get(at) instanceof EnvelopeDecoder.Change c ? c.hint() : null;
        }
    }

    /** Lanes by their head's position; a head without one (tombstone, dead letter) goes first. */
    private static final Comparator<Lane> BY_HEAD = (a, b) -> {
        SourcePosition x = a.headHint();
        SourcePosition y = b.headHint();
        if (x == null || y == null) {
            return x == null && y == null ? OffsetToken.ORDER.compare(a.partition, b.partition) : x == null ? -1 : 1;
        }
        int c = x.compareTo(y);
        return c != 0 ? c : OffsetToken.ORDER.compare(a.partition, b.partition);
    };

    private void deliver(ChangeHandler handler, Consumer<byte[], byte[]> kafka, ConsumerRecords<byte[], byte[]> records) {
        if (records.isEmpty()) {
            // An empty batch all the same: the pipeline commits what it buffered once commit.interval
            // passed, and only when the source calls it. Transaction markers move the offsets too.
            handOver(handler, List.of(), kafka, true);
            return;
        }
        PriorityQueue<Lane> lanes = new PriorityQueue<>(BY_HEAD);
        for (TopicPartition tp : records.partitions()) {
            List<ConsumerRecord<byte[], byte[]>> list = records.records(tp);
            List<EnvelopeDecoder.Decoded> decoded = new ArrayList<>(list.size());
            for (ConsumerRecord<byte[], byte[]> r : list) {
                decoded.add(decoder.decode(r));
            }
            lanes.add(new Lane(tp, list, decoded));
        }
        List<ChangeEvent> events = new ArrayList<>();
        while (!lanes.isEmpty()) {
            Lane lane = lanes.poll();
            ConsumerRecord<byte[], byte[]> record = lane.records.get(lane.at);
            EnvelopeDecoder.Decoded decoded = lane.decoded.get(lane.at);
            lane.at++;
            if (decoded instanceof EnvelopeDecoder.Change change) {
                SourcePosition position = nextPosition(change.hint());
                Struct source = ((Struct) change.record().value()).getStruct("source");
                ChangeEvent event = converter.convert(change.record(), position, EnvelopeDecoder.transactionId(source), EnvelopeDecoder.commitTime(source, record), change.keyOnlyBefore());
                events.add(event);
                if (group) {
                    workers.delivered(record.topic(), event.table());
                }
                lastDelivered = position;
            } else if (decoded instanceof EnvelopeDecoder.Unreadable unreadable) {
                SourcePosition position = nextPosition(null);
                deadLetters++;
                LOG.warn("Record {}-{} at offset {} is not a readable Debezium change event ({}): kept in tributary_dead_letters ({} so far)",
                        record.topic(), record.partition(), record.offset(), unreadable.reason(), deadLetters);
                events.add(DeadLetters.of(record, unreadable.reason(), position, clock.instant()));
                lastDelivered = position;
            }
            next.put(lane.partition, record.offset() + 1);
            if (lane.at < lane.records.size()) {
                lanes.add(lane);
            }
            if (events.size() >= session.maxBatchEvents()) {
                handOver(handler, events, kafka, false);
                events = new ArrayList<>();
            }
        }
        handOver(handler, events, kafka, true);
    }

    /** The hint when it comes after everything delivered, else the next position after that. */
    private SourcePosition nextPosition(SourcePosition hint) {
        if (hint != null && hint.isAfter(lastDelivered)) {
            return hint;
        }
        return new SourcePosition(lastDelivered.commitKey(), lastDelivered.eventIndex() + 1);
    }

    /**
     * Hands {@code events} over with the offsets read through them; {@code endOfPoll} takes the
     * consumer's positions, which also pass transaction markers after the last record.
     */
    private void handOver(ChangeHandler handler, List<ChangeEvent> events, Consumer<byte[], byte[]> kafka, boolean endOfPoll) {
        if (endOfPoll) {
            for (TopicPartition tp : kafka.assignment()) {
                long position = kafka.position(tp, METADATA_TIMEOUT);
                if (next.containsKey(tp) || position > 0) {
                    next.put(tp, position);
                }
            }
        }
        SourceOffset offset = OffsetToken.encode(next);
        ChangeBatch batch = new ChangeBatch(events, lastDelivered, offset, List.of(), List.of(), lastDelivered,
                group ? workers.progress(next, endOfPoll) : Map.of());
        if (!unacknowledged.isEmpty() && unacknowledged.peekLast().getKey().equals(lastDelivered)) {
            // Nothing new delivered since (an empty poll): the newer offsets replace the older.
            unacknowledged.pollLast();
        }
        unacknowledged.addLast(Map.entry(lastDelivered, Map.copyOf(next)));
        acknowledge(kafka, handler.accept(batch));
    }

    /** Commits to the consumer group the offsets of the batches the lake committed. */
    private void acknowledge(Consumer<byte[], byte[]> kafka, Optional<SourcePosition> committed) {
        if (committed.isEmpty()) {
            return;
        }
        Map<TopicPartition, Long> latest = null;
        while (!unacknowledged.isEmpty() && !unacknowledged.peekFirst().getKey().isAfter(committed.get())) {
            latest = unacknowledged.pollFirst().getValue();
        }
        if (latest != null && !latest.isEmpty() && !latest.equals(groupCommitted)) {
            groupCommitted = latest;
            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
            Set<TopicPartition> assigned = kafka.assignment();
            latest.forEach((tp, offset) -> {
                // A lake worker commits only the partitions the group gives it now.
                if (!group || assigned.contains(tp)) {
                    offsets.put(tp, new OffsetAndMetadata(offset));
                }
            });
            kafka.commitAsync(offsets, (done, e) -> {
                if (e != null) {
                    LOG.debug("Cannot commit the consumer group's offsets (the lake holds them): {}", e.getMessage());
                }
            });
        }
    }

    @Override
    public void close() {
        closed = true;
        idle.countDown();
        Consumer<byte[], byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
    }
}
