package io.tributary.source.kafka;

import io.tributary.spi.ChangeHandler;
import io.tributary.spi.ShardProgress;
import io.tributary.spi.ShardResume;
import io.tributary.spi.TableId;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.common.TopicPartition;

/**
 * A lake worker's membership of the consumer group ({@code source.workers: group}): the topics it
 * subscribes to, the ones the group gave it (each a shard of the lake, {@link ChangeHandler#claim}),
 * and what it read of each since the last hand-over. As Kafka's rebalance listener it claims the
 * topics the group assigns before they are read, and commits and releases the ones it revokes
 * before another member reads them. The listener runs inside {@code poll} on the capture thread; a
 * failure is kept and thrown by {@link #throwIfFailed()} after the poll, before any record of a
 * topic that could not be claimed is delivered.
 */
final class WorkerGroup implements ConsumerRebalanceListener {
    /** What the group needs of the source's reading state. */
    interface Reader {
        /** Takes up a claimed topic where the lake has it: its position and its partitions' offsets. */
        void resume(String topic, ShardResume at);

        /** Positions newly assigned partitions (at the lake's offsets) for reading. */
        void start(Set<TopicPartition> partitions);

        /** Forgets what was read of topics no longer held. */
        void forget(Set<String> topics);
    }

    private final Consumer<byte[], byte[]> kafka;
    private final ChangeHandler handler;
    private final Reader reader;
    private final Set<String> held = new TreeSet<>();
    /** The tables of each topic's events since the last hand-over. */
    private final Map<String, Set<TableId>> tables = new HashMap<>();
    private Set<String> subscribed = Set.of();
    private boolean assignedOnce;
    /** Between a revocation and the assignment that ends the rebalance (eager: a poll may return in between). */
    private boolean rebalancing;
    private RuntimeException failure;

    WorkerGroup(Consumer<byte[], byte[]> kafka, ChangeHandler handler, Reader reader) {
        this.kafka = kafka;
        this.handler = handler;
        this.reader = reader;
    }

    /** Subscribes to {@code topics} when they differ from the current subscription (an empty set leaves the group's topics). */
    void subscribe(Set<String> topics) {
        if (topics.equals(subscribed)) {
            return;
        }
        subscribed = Set.copyOf(topics);
        if (topics.isEmpty()) {
            kafka.unsubscribe();
        } else {
            kafka.subscribe(topics, this);
        }
    }

    /** Whether no topic is subscribed to (none exists yet): polling would fail. */
    boolean idle() {
        return subscribed.isEmpty();
    }

    /**
     * Whether this member holds what the group gave it: assigned at least once (possibly nothing),
     * and not in a rebalance whose revocation ran but whose assignment has not come yet.
     */
    boolean settled() {
        return assignedOnce && !rebalancing;
    }

    /** Notes an event of {@code table} read from {@code topic}. */
    void delivered(String topic, TableId table) {
        tables.computeIfAbsent(topic, t -> new HashSet<>()).add(table);
    }

    /** Throws what the listener failed with during the last poll. */
    void throwIfFailed() {
        if (failure != null) {
            throw failure;
        }
    }

    /** Drops a failure of the listener run by the consumer's close (it left the group). */
    void clearFailure() {
        failure = null;
    }

    /**
     * Where each held topic stands after a hand-over, with the tables its events went to since the
     * last one; a topic is caught up when the poll that ended the batch left no record of any of
     * its partitions unread (Kafka's {@code currentLag}, known from the fetches).
     *
     * @param next      the next offset of every partition read
     * @param endOfPoll whether the batch ends a poll (else the topic is not caught up)
     */
    Map<String, ShardProgress> progress(Map<TopicPartition, Long> next, boolean endOfPoll) {
        Map<String, ShardProgress> out = new HashMap<>();
        Set<TopicPartition> assigned = kafka.assignment();
        for (String topic : held) {
            Map<TopicPartition, Long> offsets = new HashMap<>();
            next.forEach((tp, offset) -> {
                if (tp.topic().equals(topic)) {
                    offsets.put(tp, offset);
                }
            });
            boolean caughtUp = endOfPoll;
            for (TopicPartition tp : assigned) {
                if (caughtUp && tp.topic().equals(topic)) {
                    OptionalLong lag = kafka.currentLag(tp);
                    caughtUp = lag.isPresent() && lag.getAsLong() == 0;
                }
            }
            out.put(topic, new ShardProgress(OffsetToken.encode(offsets), tables.getOrDefault(topic, Set.of()), caughtUp));
        }
        tables.clear();
        return out;
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
        rebalancing = true;
        Set<String> topics = topicsOf(partitions);
        topics.retainAll(held);
        if (topics.isEmpty() || failure != null) {
            return;
        }
        try {
            // What was delivered of them goes into the lake, with their offsets, before another member reads them.
            handler.release(topics);
        } catch (RuntimeException e) {
            failure = e;
        } finally {
            held.removeAll(topics);
            topics.forEach(tables::remove);
            reader.forget(topics);
        }
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
        assignedOnce = true;
        rebalancing = false;
        Set<String> topics = topicsOf(partitions);
        if (topics.isEmpty() || failure != null) {
            return;
        }
        try {
            Map<String, ShardResume> resume = handler.claim(topics);
            held.addAll(topics);
            resume.forEach(reader::resume);
            Set<TopicPartition> added = new TreeSet<>(OffsetToken.ORDER);
            added.addAll(partitions);
            reader.start(added);
        } catch (RuntimeException e) {
            failure = e;
        }
    }

    private static Set<String> topicsOf(Collection<TopicPartition> partitions) {
        Set<String> topics = new TreeSet<>();
        partitions.forEach(tp -> topics.add(tp.topic()));
        return topics;
    }
}
