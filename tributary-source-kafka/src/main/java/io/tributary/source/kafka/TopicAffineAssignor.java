package io.tributary.source.kafka;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.TopicPartition;

/**
 * The consumer group assignor of lake workers ({@code source.workers: group}): every partition of a
 * topic goes to the same member, so each lake table (one topic) has exactly one committer, as
 * Iceberg's row-level commits of one table by several writers would conflict. Topics are spread so
 * that members hold at most one topic more than each other, and a member keeps the topics it held
 * (sent as its subscription's user data) as far as that balance allows: a worker joining or leaving
 * moves as few topics as it can. Kafka's classic group protocol, eager rebalancing (Kafka
 * {@code ConsumerPartitionAssignor}, KIP-429 for the protocols).
 */
public final class TopicAffineAssignor implements ConsumerPartitionAssignor {
    /** The name members agree on ({@code partition.assignment.strategy}). */
    public static final String NAME = "tributary-topic-affine";

    /** The topics this member was given last, announced at the next rebalance. */
    private volatile Set<String> held = Set.of();

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ByteBuffer subscriptionUserData(Set<String> topics) {
        return ByteBuffer.wrap(String.join("\n", held).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void onAssignment(Assignment assignment, ConsumerGroupMetadata metadata) {
        Set<String> topics = new TreeSet<>();
        assignment.partitions().forEach(tp -> topics.add(tp.topic()));
        held = Set.copyOf(topics);
    }

    @Override
    public GroupAssignment assign(Cluster metadata, GroupSubscription groupSubscription) {
        Map<String, Set<String>> subscriptions = new TreeMap<>();
        Map<String, Set<String>> previous = new HashMap<>();
        Map<String, Integer> partitionCounts = new HashMap<>();
        groupSubscription.groupSubscription().forEach((member, subscription) -> {
            subscriptions.put(member, new TreeSet<>(subscription.topics()));
            previous.put(member, decode(subscription.userData()));
            for (String topic : subscription.topics()) {
                Integer count = metadata.partitionCountForTopic(topic);
                if (count != null && count > 0) {
                    partitionCounts.put(topic, count);
                }
            }
        });
        Map<String, List<String>> topics = assignTopics(subscriptions, previous, partitionCounts);
        Map<String, Assignment> out = new HashMap<>();
        topics.forEach((member, owned) -> {
            List<TopicPartition> partitions = new ArrayList<>();
            for (String topic : owned) {
                for (int p = 0; p < partitionCounts.get(topic); p++) {
                    partitions.add(new TopicPartition(topic, p));
                }
            }
            out.put(member, new Assignment(partitions));
        });
        return new GroupAssignment(out);
    }

    /**
     * The topics of each member: whole topics only, at most one more than any other member holds
     * (among members subscribed to them), members keeping their {@code previous} topics first.
     *
     * @param subscriptions   each member's subscribed topics
     * @param previous        the topics each member held before this rebalance
     * @param partitionCounts the partition count of every topic that exists; others are not assigned
     * @return every member, with its topics in name order
     */
    static Map<String, List<String>> assignTopics(Map<String, Set<String>> subscriptions, Map<String, Set<String>> previous,
                                                  Map<String, Integer> partitionCounts) {
        Map<String, List<String>> out = new TreeMap<>();
        subscriptions.keySet().forEach(m -> out.put(m, new ArrayList<>()));
        if (subscriptions.isEmpty()) {
            return out;
        }
        Set<String> all = new TreeSet<>(partitionCounts.keySet());
        all.removeIf(t -> subscriptions.values().stream().noneMatch(s -> s.contains(t)));
        // Members hold floor or floor + 1 topics; at most `extra` of them the larger count.
        int floor = all.size() / subscriptions.size();
        int extra = all.size() % subscriptions.size();
        Set<String> assigned = new TreeSet<>();
        for (int round = 0; round < 2; round++) {
            for (Map.Entry<String, Set<String>> member : subscriptions.entrySet()) {
                List<String> owned = out.get(member.getKey());
                for (String topic : new TreeSet<>(previous.getOrDefault(member.getKey(), Set.of()))) {
                    boolean room = round == 0 ? owned.size() < floor : owned.size() == floor && extra > 0;
                    if (room && all.contains(topic) && member.getValue().contains(topic) && !assigned.contains(topic)) {
                        owned.add(topic);
                        assigned.add(topic);
                        if (round == 1) {
                            extra--;
                        }
                    }
                }
            }
        }
        List<String> rest = new ArrayList<>(all);
        rest.removeAll(assigned);
        // Larger topics first, each to the subscribed member holding the fewest topics, then the fewest partitions.
        rest.sort(Comparator.comparing((String t) -> -partitionCounts.get(t)).thenComparing(t -> t));
        for (String topic : rest) {
            String best = null;
            for (Map.Entry<String, Set<String>> member : subscriptions.entrySet()) {
                if (!member.getValue().contains(topic)) {
                    continue;
                }
                if (best == null || load(out.get(member.getKey()), partitionCounts) < load(out.get(best), partitionCounts)) {
                    best = member.getKey();
                }
            }
            out.get(best).add(topic);
        }
        out.values().forEach(java.util.Collections::sort);
        return out;
    }

    /** Topics first, then partitions: a member's load for choosing the next topic's member. */
    private static long load(List<String> topics, Map<String, Integer> partitionCounts) {
        long partitions = 0;
        for (String t : topics) {
            partitions += partitionCounts.get(t);
        }
        return topics.size() * 1_000_000L + partitions;
    }

    private static Set<String> decode(ByteBuffer data) {
        if (data == null || !data.hasRemaining()) {
            return Set.of();
        }
        ByteBuffer copy = data.duplicate();
        byte[] bytes = new byte[copy.remaining()];
        copy.get(bytes);
        Set<String> out = new TreeSet<>();
        for (String t : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
            if (!t.isEmpty()) {
                out.add(t);
            }
        }
        return out;
    }
}
