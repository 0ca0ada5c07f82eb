package io.tributary.source.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Lake workers get whole topics, balanced, keeping what they held as far as balance allows. */
class TopicAffineAssignorTest {
    private static final Set<String> TOPICS = Set.of("a", "b", "c", "d", "e");
    private static final Map<String, Integer> PARTITIONS = Map.of("a", 3, "b", 3, "c", 1, "d", 1, "e", 2);

    @Test
    void wholeTopicsAreSpreadEvenly() {
        Map<String, List<String>> out = TopicAffineAssignor.assignTopics(Map.of("w1", TOPICS, "w2", TOPICS, "w3", TOPICS), Map.of(), PARTITIONS);
        assertThat(out.values().stream().mapToInt(List::size)).containsExactlyInAnyOrder(2, 2, 1);
        assertThat(out.values().stream().flatMap(List::stream)).containsExactlyInAnyOrderElementsOf(TOPICS);
        // The largest topics go to different members first.
        assertThat(out.values()).noneMatch(t -> t.containsAll(List.of("a", "b")));
    }

    @Test
    void membersKeepTheirTopicsWhenOneLeavesOrJoins() {
        Map<String, Set<String>> before = Map.of("w1", Set.of("a", "d"), "w2", Set.of("b", "e"), "w3", Set.of("c"));
        Map<String, List<String>> afterLeave = TopicAffineAssignor.assignTopics(Map.of("w1", TOPICS, "w3", TOPICS), before, PARTITIONS);
        assertThat(afterLeave.get("w1")).contains("a", "d");
        assertThat(afterLeave.get("w3")).contains("c");
        assertThat(afterLeave.get("w1").size() + afterLeave.get("w3").size()).isEqualTo(5);
        assertThat(Math.abs(afterLeave.get("w1").size() - afterLeave.get("w3").size())).isLessThanOrEqualTo(1);

        Map<String, List<String>> afterJoin = TopicAffineAssignor.assignTopics(Map.of("w1", TOPICS, "w2", TOPICS, "w3", TOPICS, "w4", TOPICS),
                before, PARTITIONS);
        assertThat(afterJoin.get("w4")).hasSize(1);
        assertThat(afterJoin.get("w3")).containsExactly("c");
        assertThat(afterJoin.values().stream().mapToInt(List::size).max().orElseThrow()).isEqualTo(2);
    }

    @Test
    void aTopicGoesOnlyToMembersSubscribedToIt() {
        Map<String, List<String>> out = TopicAffineAssignor.assignTopics(Map.of("w1", Set.of("a"), "w2", Set.of("a", "b")), Map.of(),
                Map.of("a", 1, "b", 1, "x", 4));
        assertThat(out.get("w2")).contains("b");
        assertThat(out.values().stream().flatMap(List::stream)).containsExactlyInAnyOrder("a", "b");
    }
}
