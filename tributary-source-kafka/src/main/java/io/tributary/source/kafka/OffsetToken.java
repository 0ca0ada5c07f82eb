package io.tributary.source.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.TributaryException;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.TopicPartition;

/**
 * The lake's source offset for a Kafka source: for every partition read, the offset of the next
 * record to consume (Kafka's committed-offset convention), as JSON
 * {@code {"kafka": {"<topic>": {"<partition>": <next offset>, …}, …}}}, recorded with each lake
 * commit so a restart resumes exactly after what the lake holds.
 */
final class OffsetToken {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ROOT = "kafka";
    static final Comparator<TopicPartition> ORDER = Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

    private OffsetToken() {
    }

    /** The offsets as a token, partitions in topic and partition order. */
    static SourceOffset encode(Map<TopicPartition, Long> next) {
        Map<TopicPartition, Long> sorted = new TreeMap<>(ORDER);
        sorted.putAll(next);
        ObjectNode root = JSON.createObjectNode();
        ObjectNode topics = root.putObject(ROOT);
        sorted.forEach((tp, offset) -> {
            ObjectNode topic = topics.has(tp.topic()) ? (ObjectNode) topics.get(tp.topic()) : topics.putObject(tp.topic());
            topic.put(Integer.toString(tp.partition()), offset);
        });
        return new SourceOffset(root.toString());
    }

    /**
     * The offsets of a token written by {@link #encode}.
     *
     * @throws TributaryException {@link ErrorCode#SOURCE_MISCONFIGURED} when the lake's offset was
     *         written by another kind of source (the lake was filled from PostgreSQL directly)
     */
    static Map<TopicPartition, Long> decode(SourceOffset offset) {
        JsonNode topics;
        try {
            topics = JSON.readTree(offset.token()).get(ROOT);
        } catch (java.io.IOException e) {
            topics = null;
        }
        if (topics == null || !topics.isObject()) {
            throw new TributaryException(ErrorCode.SOURCE_MISCONFIGURED, "The lake's committed source offset was not written by a Kafka source: this lake "
                    + "is filled by another kind of source. Land the topics in a lake of their own");
        }
        Map<TopicPartition, Long> next = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = topics.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> topic = it.next();
            for (Iterator<Map.Entry<String, JsonNode>> p = topic.getValue().properties().iterator(); p.hasNext(); ) {
                Map.Entry<String, JsonNode> partition = p.next();
                next.put(new TopicPartition(topic.getKey(), Integer.parseInt(partition.getKey())), partition.getValue().asLong());
            }
        }
        return next;
    }
}
